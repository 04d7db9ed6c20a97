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

    private readonly OnnxTextModel model;
    private readonly bool hasProbabilities;

    private OnnxTokenClassifier(OnnxTextModel model, IReadOnlyList<string> labels)
    {
        this.model = model;
        Labels = labels;
        hasProbabilities = model.Session.HasOutput("probabilities");
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Loads a folder with the exported token classifier, its tokenizer files (WordPiece <c>vocab.txt</c>, or the <c>tokenizer.json</c> of a RoBERTa / XLM-R export) and <c>config.json</c>.</summary>
    /// <param name="directory">The folder, or a Hub model id.</param>
    /// <param name="options">File name, threads, limits, aggregation.</param>
    /// <exception cref="FileNotFoundException">No ONNX file or no tokenizer files.</exception>
    /// <exception cref="InvalidDataException">The ONNX file is not a BERT token-classification export.</exception>
    public static OnnxTokenClassifier FromPretrained(string directory, OnnxClassifierOptions? options = null) =>
        OnnxTextModel.Load(directory, options, Outputs, "token-classification", model =>
        {
            int[] shape = model.Session.OutputShape("logits");
            if (shape.Length != 3)
            {
                throw new InvalidDataException($"'{model.Session.Path}' is not a BERT token-classification export: its output 'logits' has {shape.Length} dimensions, not [batch, sequence, labels].");
            }

            return new OnnxTokenClassifier(model, OnnxModelFolder.Labels(model.Directory, model.Session.Metadata, shape[2], model.Session.Path));
        });

    /// <inheritdoc />
    public IReadOnlyList<Entity> Predict(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return PredictBatch([text])[0];
    }

    /// <inheritdoc />
    public IReadOnlyList<IReadOnlyList<Entity>> PredictBatch(IReadOnlyList<string> texts)
    {
        if (!model.Check(texts))
        {
            return [];
        }

        // The encoder gives each token's piece, offsets into the text, and whether it starts a word (WordPiece "##",
        // byte-level BPE "Ġ", SentencePiece "▁"), as TokenClassifier reads them, so both decode identically.
        IReadOnlyList<TokenizedRow> tokenized = model.Encoder.Tokenize(texts, model.MaxLength);
        EncodedText[] encoded = [.. tokenized.Select(t => t.Encoded)];
        int k = Labels.Count;
        return model.Run<IReadOnlyList<Entity>>(encoded, hasProbabilities ? "probabilities" : "logits", (rows, batch, flat) =>
        {
            var entities = new IReadOnlyList<Entity>[rows.Length];
            for (int r = 0; r < rows.Length; r++)
            {
                int offset = r * batch.Length;
                TokenPrediction[] tokens = tokenized[rows[r]].Predictions(t =>
                {
                    ReadOnlySpan<float> scores = flat.AsSpan((offset + t) * k, k);
                    return hasProbabilities ? scores.ToArray() : EntityAggregator.Softmax(scores);
                });
                entities[r] = EntityAggregator.Aggregate(texts[rows[r]], tokens, Labels, model.Options.Aggregation);
            }

            return entities;
        });
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Entity>> PredictAsync(string text, CancellationToken cancellationToken = default) =>
        SyncPrediction.RunAsync(text, t => Predict(t), cancellationToken);

    /// <inheritdoc />
    public void Dispose() => model.Dispose();
}
