using Bert.Sharp.Inference;
using Bert.Sharp.Serving;
using Bert.Sharp.TokenClassification;

namespace Bert.Sharp;

/// <summary>
/// Serves a token classifier (named-entity recognition) exported with Bert.Sharp's <c>OnnxExporter</c> on ONNX Runtime:
/// per-token probabilities from the graph, merged into entities with Hugging Face's pipeline semantics
/// (<see cref="OnnxClassifierOptions.Aggregation"/>), with character offsets into the input.
/// </summary>
/// <remarks>Thread-safe; disposal as <see cref="OnnxTextClassifier"/>. Texts longer than the model's maximum are truncated.</remarks>
public sealed class OnnxTokenClassifier : ITokenClassifier
{
    private static readonly string[] Outputs = ["logits"];

    private readonly OnnxModelSession session;
    private readonly BertTokenizer tokenizer;
    private readonly OnnxClassifierOptions options;
    private readonly int maxLength;
    private readonly bool hasProbabilities;

    private OnnxTokenClassifier(OnnxModelSession session, BertTokenizer tokenizer, OnnxClassifierOptions options, IReadOnlyList<string> labels)
    {
        this.session = session;
        this.tokenizer = tokenizer;
        this.options = options;
        Labels = labels;
        maxLength = OnnxModelFolder.MaxLength(session.Metadata, tokenizer, options);
        hasProbabilities = session.HasOutput("probabilities");
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Loads a folder with the exported token classifier, its tokenizer files and <c>config.json</c>.</summary>
    /// <param name="directory">The folder, or a Hub model id.</param>
    /// <param name="options">File name, threads, limits, aggregation.</param>
    /// <exception cref="FileNotFoundException">No ONNX file or no tokenizer files.</exception>
    /// <exception cref="InvalidDataException">The ONNX file is not a BERT token-classification export.</exception>
    public static OnnxTokenClassifier FromPretrained(string directory, OnnxClassifierOptions? options = null)
    {
        options ??= new OnnxClassifierOptions();
        options.Validate();
        string resolved = OnnxModelFolder.Resolve(directory);
        BertTokenizer tokenizer = BertTokenizer.FromPretrained(resolved);
        OnnxModelSession session = OnnxModelSession.Open(Path.Combine(resolved, options.ModelFileName), options, typeof(OnnxTokenClassifier), Outputs, "token-classification");
        try
        {
            int[] shape = session.OutputShape("logits");
            if (shape.Length != 3)
            {
                throw new InvalidDataException($"'{session.Path}' is not a BERT token-classification export: its output 'logits' has {shape.Length} dimensions, not [batch, sequence, labels].");
            }

            return new OnnxTokenClassifier(session, tokenizer, options, OnnxModelFolder.Labels(resolved, session.Metadata, shape[2], session.Path));
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<Entity> Predict(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return PredictBatch([text])[0];
    }

    /// <inheritdoc />
    public IReadOnlyList<IReadOnlyList<Entity>> PredictBatch(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        for (int i = 0; i < texts.Count; i++)
        {
            if (texts[i] is null)
            {
                throw new ArgumentException($"Text #{i} is null.", nameof(texts));
            }
        }

        session.ThrowIfDisposed();
        if (texts.Count == 0)
        {
            return [];
        }

        BatchEncoding encoding = tokenizer.EncodeBatch(texts, new EncodingOptions { Padding = PaddingStrategy.None, Truncation = TruncationStrategy.LongestFirst, MaxLength = maxLength });
        EncodedText[] encoded = EncodedText.Rows(encoding);
        int k = Labels.Count;
        return LengthGroupedBatches.Run<IReadOnlyList<Entity>>(encoded, options.BatchSize, rows =>
        {
            PaddedBatch batch = PaddedBatch.Create(encoded, rows, tokenizer.PadTokenId);
            string output = hasProbabilities ? "probabilities" : "logits";
            float[] flat = session.Run(batch, [output])[output];
            var entities = new IReadOnlyList<Entity>[rows.Length];
            for (int r = 0; r < rows.Length; r++)
            {
                int row = rows[r];
                int[] ids = encoding.InputIds[row];
                var tokens = new TokenPrediction[ids.Length];
                for (int t = 0; t < ids.Length; t++)
                {
                    ReadOnlySpan<float> scores = flat.AsSpan(((r * batch.Length) + t) * k, k);
                    string piece = tokenizer.IdToToken(ids[t]) ?? string.Empty;
                    TokenOffset offset = encoding.Offsets[row][t];
                    tokens[t] = new TokenPrediction(piece, offset.Start, offset.End, encoding.SpecialTokensMask[row][t] == 1,
                        piece.StartsWith("##", StringComparison.Ordinal), hasProbabilities ? scores.ToArray() : EntityAggregator.Softmax(scores));
                }

                entities[r] = EntityAggregator.Aggregate(texts[row], tokens, Labels, options.Aggregation);
            }

            return entities;
        });
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Entity>> PredictAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Task.Run(() => Predict(text), cancellationToken);
    }

    /// <inheritdoc />
    public void Dispose() => session.Dispose();
}
