using Bert.Sharp.Inference;
using Bert.Sharp.Serving;

namespace Bert.Sharp;

/// <summary>
/// Serves a text classifier exported with Bert.Sharp's <c>OnnxExporter</c> on ONNX Runtime: the same
/// <see cref="Prediction"/>s as Bert.Sharp's <c>TextClassifier</c> on the folder it was exported from (within 1e-4 on
/// the probabilities; int8 exports within their quantization error), without TorchSharp.
/// </summary>
/// <remarks>
/// Thread-safe: one ONNX Runtime session serves every caller. <see cref="Dispose"/> may run while calls are in flight;
/// they finish, and later calls throw <see cref="ObjectDisposedException"/>. Texts longer than the model's maximum are
/// truncated; empty texts are classified as <c>[CLS] [SEP]</c>.
/// </remarks>
public sealed class OnnxTextClassifier : ITextClassifier
{
    private static readonly string[] LogitsOnly = ["logits"];
    private static readonly string[] WithProbabilities = ["probabilities"];

    private readonly OnnxModelSession session;
    private readonly BertTokenizer tokenizer;
    private readonly OnnxClassifierOptions options;
    private readonly int maxLength;
    private readonly string[] outputs;
    private readonly float[] thresholds;

    private OnnxTextClassifier(OnnxModelSession session, BertTokenizer tokenizer, OnnxClassifierOptions options, IReadOnlyList<string> labels, ProblemType problemType)
    {
        this.session = session;
        this.tokenizer = tokenizer;
        this.options = options;
        Labels = labels;
        ProblemType = problemType;
        maxLength = OnnxModelFolder.MaxLength(session.Metadata, tokenizer, options);
        outputs = session.HasOutput("probabilities") ? WithProbabilities : LogitsOnly;
        thresholds = MultiLabelThresholds.Resolve(labels, options.MultiLabelThreshold, options.LabelThresholds, nameof(OnnxClassifierOptions));
    }

    /// <summary>The labels the classifier chooses from, in class-index order.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Single-label (softmax), multi-label (sigmoid) or regression (raw outputs).</summary>
    public ProblemType ProblemType { get; }

    /// <summary>The .onnx file being served.</summary>
    public string ModelPath => session.Path;

    /// <summary>
    /// Loads a folder with the exported model (<see cref="OnnxClassifierOptions.ModelFileName"/>, <c>model.onnx</c> by
    /// default), the tokenizer files and <c>config.json</c> — the model folder itself when the export was written into it.
    /// </summary>
    /// <param name="directory">The folder, or a Hub model id.</param>
    /// <param name="options">File name, threads, limits.</param>
    /// <exception cref="FileNotFoundException">No ONNX file or no tokenizer files.</exception>
    /// <exception cref="InvalidDataException">The ONNX file is not a BERT text-classification export (the message names the file and what is missing).</exception>
    public static OnnxTextClassifier FromPretrained(string directory, OnnxClassifierOptions? options = null)
    {
        options ??= new OnnxClassifierOptions();
        options.Validate();
        string resolved = OnnxModelFolder.Resolve(directory);
        BertTokenizer tokenizer = BertTokenizer.FromPretrained(resolved);
        OnnxModelSession session = OnnxModelSession.Open(Path.Combine(resolved, options.ModelFileName), options, typeof(OnnxTextClassifier), LogitsOnly, "text-classification");
        try
        {
            int[] shape = session.OutputShape("logits");
            if (shape.Length != 2)
            {
                throw new InvalidDataException($"'{session.Path}' is not a BERT text-classification export: its output 'logits' has {shape.Length} dimensions, not [batch, labels] (a token classifier? use OnnxTokenClassifier).");
            }

            IReadOnlyList<string> labels = OnnxModelFolder.Labels(resolved, session.Metadata, shape[1], session.Path);
            return new OnnxTextClassifier(session, tokenizer, options, labels, OnnxModelFolder.ProblemType(resolved, session.Metadata, labels.Count));
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public Prediction Predict(string text, string? textPair = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        session.ThrowIfDisposed();
        EncodingOptions encodingOptions = EncodingOptions();
        BatchEncoding encoding = textPair is null ? tokenizer.EncodeBatch([text], encodingOptions) : tokenizer.EncodeBatch([text], [textPair], encodingOptions);
        return Run(EncodedText.Rows(encoding), [0])[0];
    }

    /// <inheritdoc />
    public IReadOnlyList<Prediction> PredictBatch(IReadOnlyList<string> texts)
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

        return RunInLengthGroups(tokenizer.EncodeBatch(texts, EncodingOptions()));
    }

    /// <summary>
    /// Classifies many sentence pairs (premise and hypothesis, question and passage, ...), as
    /// <see cref="Predict(string, string?)"/> does one, <see cref="OnnxClassifierOptions.BatchSize"/> at a time (similar
    /// lengths batched together); the same predictions as Bert.Sharp's <c>TextClassifier.PredictBatch</c> over pairs.
    /// Results are in input order.
    /// </summary>
    /// <param name="pairs">The pairs; neither text of a pair may be null.</param>
    /// <exception cref="ArgumentException">A text of a pair is null; the message gives the pair's index.</exception>
    /// <exception cref="ObjectDisposedException">The classifier was disposed.</exception>
    public IReadOnlyList<Prediction> PredictBatch(IReadOnlyList<(string Text, string TextPair)> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        for (int i = 0; i < pairs.Count; i++)
        {
            if (pairs[i].Text is null || pairs[i].TextPair is null)
            {
                throw new ArgumentException($"Pair #{i} has a null text.", nameof(pairs));
            }
        }

        session.ThrowIfDisposed();
        if (pairs.Count == 0)
        {
            return [];
        }

        string[] first = [.. pairs.Select(p => p.Text)];
        string[] second = [.. pairs.Select(p => p.TextPair)];
        return RunInLengthGroups(tokenizer.EncodeBatch(first, second, EncodingOptions()));
    }

    /// <inheritdoc />
    public Task<Prediction> PredictAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Task.Run(() => Predict(text), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Prediction>> PredictBatchAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return Task.Run(() => PredictBatch(texts), cancellationToken);
    }

    /// <inheritdoc />
    public void Dispose() => session.Dispose();

    private EncodingOptions EncodingOptions() => new() { Padding = PaddingStrategy.None, Truncation = TruncationStrategy.LongestFirst, MaxLength = maxLength };

    // Batches of similar lengths (less padding), predictions put back in input order.
    private Prediction[] RunInLengthGroups(BatchEncoding encoding)
    {
        EncodedText[] encoded = EncodedText.Rows(encoding);
        return LengthGroupedBatches.Run(encoded, options.BatchSize, rows => Run(encoded, rows));
    }

    private List<Prediction> Run(EncodedText[] encoded, int[] rows)
    {
        PaddedBatch batch = PaddedBatch.Create(encoded, rows, tokenizer.PadTokenId);
        float[] flat = session.Run(batch, outputs)[outputs[0]];
        int k = Labels.Count;
        var predictions = new List<Prediction>(rows.Length);
        for (int r = 0; r < rows.Length; r++)
        {
            float[] row = flat[(r * k)..((r + 1) * k)];
            if (outputs == LogitsOnly)
            {
                row = Scores(row);
            }

            predictions.Add(ToPrediction(row));
        }

        return predictions;
    }

    // For graphs without a probabilities output: softmax, sigmoid or identity, as the graph would have done.
    private float[] Scores(float[] logits)
    {
        switch (ProblemType)
        {
            case ProblemType.SingleLabelClassification:
                float max = logits.Max();
                double sum = logits.Sum(x => Math.Exp(x - max));
                return [.. logits.Select(x => (float)(Math.Exp(x - max) / sum))];
            case ProblemType.MultiLabelClassification:
                return [.. logits.Select(x => 1f / (1f + MathF.Exp(-x)))];
            default:
                return logits;
        }
    }

    private Prediction ToPrediction(float[] row)
    {
        int best = 0;
        for (int c = 1; c < row.Length; c++)
        {
            best = row[c] > row[best] ? c : best;
        }

        var probabilities = new Dictionary<string, float>(row.Length, StringComparer.Ordinal);
        for (int c = 0; c < row.Length; c++)
        {
            probabilities[Labels[c]] = row[c];
        }

        IReadOnlyList<string> chosen = ProblemType == ProblemType.MultiLabelClassification
            ? [.. Enumerable.Range(0, row.Length).Where(c => row[c] >= thresholds[c]).Select(c => Labels[c])]
            : [Labels[best]];
        return new Prediction { Label = Labels[best], Score = row[best], Probabilities = probabilities, Labels = chosen };
    }
}
