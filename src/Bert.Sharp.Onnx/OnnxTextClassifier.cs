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

    private readonly OnnxTextModel model;
    private readonly string output;
    private readonly float[] thresholds;

    private OnnxTextClassifier(OnnxTextModel model, IReadOnlyList<string> labels, ProblemType problemType)
    {
        this.model = model;
        Labels = labels;
        ProblemType = problemType;
        output = model.Session.HasOutput("probabilities") ? WithProbabilities[0] : LogitsOnly[0];
        thresholds = MultiLabelThresholds.Resolve(labels, model.Options.MultiLabelThreshold, model.Options.LabelThresholds, nameof(OnnxClassifierOptions));
    }

    /// <summary>The labels the classifier chooses from, in class-index order.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Single-label (softmax), multi-label (sigmoid) or regression (raw outputs).</summary>
    public ProblemType ProblemType { get; }

    /// <summary>The .onnx file being served.</summary>
    public string ModelPath => model.Session.Path;

    /// <summary>
    /// Loads a folder with the exported model (<see cref="OnnxClassifierOptions.ModelFileName"/>, <c>model.onnx</c> by
    /// default), the tokenizer files and <c>config.json</c> — the model folder itself when the export was written into it.
    /// </summary>
    /// <param name="directory">The folder, or a Hub model id.</param>
    /// <param name="options">File name, threads, limits.</param>
    /// <exception cref="FileNotFoundException">No ONNX file or no tokenizer files.</exception>
    /// <exception cref="InvalidDataException">The ONNX file is not a BERT text-classification export (the message names the file and what is missing).</exception>
    public static OnnxTextClassifier FromPretrained(string directory, OnnxClassifierOptions? options = null) =>
        OnnxTextModel.Load(directory, options, LogitsOnly, "text-classification", model =>
        {
            int[] shape = model.Session.OutputShape("logits");
            if (shape.Length != 2)
            {
                throw new InvalidDataException($"'{model.Session.Path}' is not a BERT text-classification export: its output 'logits' has {shape.Length} dimensions, not [batch, labels] (a token classifier? use OnnxTokenClassifier).");
            }

            IReadOnlyList<string> labels = OnnxModelFolder.Labels(model.Directory, model.Session.Metadata, shape[1], model.Session.Path);
            return new OnnxTextClassifier(model, labels, OnnxModelFolder.ProblemType(model.Directory, model.Session.Metadata, labels.Count));
        });

    /// <inheritdoc />
    public Prediction Predict(string text, string? textPair = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        model.Session.ThrowIfDisposed();
        return Run(textPair is null ? model.Encode([text]) : model.Encode([text], [textPair]))[0];
    }

    /// <inheritdoc />
    public IReadOnlyList<Prediction> PredictBatch(IReadOnlyList<string> texts) => PredictBatch(texts, CancellationToken.None);

    private Prediction[] PredictBatch(IReadOnlyList<string> texts, CancellationToken cancellationToken) =>
        model.Check(texts) ? Run(model.Encode(texts), cancellationToken) : [];

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

        model.Session.ThrowIfDisposed();
        if (pairs.Count == 0)
        {
            return [];
        }

        string[] first = [.. pairs.Select(p => p.Text)];
        string[] second = [.. pairs.Select(p => p.TextPair)];
        return Run(model.Encode(first, second));
    }

    /// <inheritdoc />
    public Task<Prediction> PredictAsync(string text, CancellationToken cancellationToken = default) =>
        SyncPrediction.RunAsync(text, t => Predict(t), cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// Runs on the thread pool (ONNX Runtime 1.31's <c>RunAsync</c> aborted the process natively when tried here,
    /// microsoft/onnxruntime#19140); <paramref name="cancellationToken"/> is checked before each batch, so cancelling
    /// stops the work within one batch.
    /// </remarks>
    public Task<IReadOnlyList<Prediction>> PredictBatchAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        SyncPrediction.RunAsync(texts, t => (IReadOnlyList<Prediction>)PredictBatch(t, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public void Dispose() => model.Dispose();

    // Batches of similar lengths (less padding), predictions put back in input order.
    private Prediction[] Run(EncodedText[] encoding, CancellationToken cancellationToken = default) =>
        model.Run(encoding, output, (rows, _, flat) =>
        {
            int k = Labels.Count;
            var predictions = new Prediction[rows.Length];
            for (int r = 0; r < rows.Length; r++)
            {
                float[] row = flat[(r * k)..((r + 1) * k)];
                predictions[r] = Prediction.FromScores(Labels, ProblemType, output == LogitsOnly[0] ? Scores(row) : row, thresholds);
            }

            return predictions;
        }, cancellationToken);

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
}
