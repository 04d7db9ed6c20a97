using Bert.Sharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// Serves a trained classifier: text in, label and probabilities out. Load the folder written by
/// <see cref="BertForSequenceClassification.SavePretrained"/> or by <see cref="FineTuner"/> (<c>best</c>, <c>checkpoint-N</c>).
/// </summary>
/// <remarks>
/// Safe to call from several threads at once: prediction only reads the weights, runs without autograd and in
/// evaluation mode, and every call uses its own dispose scope. Empty texts are classified as <c>[CLS] [SEP]</c>;
/// texts longer than the model's maximum are truncated. Dispose it to free the weights.
/// </remarks>
public sealed partial class TextClassifier : ITextClassifier
{
    private readonly BertForSequenceClassification model;
    private readonly ITextEncoder encoder;
    private readonly int maxLength;

    internal TextClassifier(BertForSequenceClassification model, ITextEncoder encoder, int? maxLength = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(encoder);
        this.model = model;
        this.encoder = encoder;
        this.maxLength = Math.Min(maxLength ?? int.MaxValue, Math.Min(model.Bert.Config.MaxPositionEmbeddings, encoder.ModelMaxLength));
        model.eval();
    }

    /// <summary>The labels the classifier chooses from, in class-index order.</summary>
    public IReadOnlyList<string> Labels => model.Labels;

    /// <summary>The underlying model.</summary>
    public BertForSequenceClassification Model => model;

    /// <summary>Classifies one text (or text pair).</summary>
    public Prediction Predict(string text, string? textPair = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        return PredictCore([text], textPair is null ? null : [textPair])[0];
    }

    /// <summary>Classifies many texts, <paramref name="batchSize"/> at a time (similar lengths batched together); results are in input order.</summary>
    /// <exception cref="ArgumentException">A text is null.</exception>
    public IReadOnlyList<Prediction> PredictBatch(IReadOnlyList<string> texts, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        for (int i = 0; i < texts.Count; i++)
        {
            if (texts[i] is null)
            {
                throw new ArgumentException($"Text #{i} is null.", nameof(texts));
            }
        }

        var results = new Prediction[texts.Count];
        IReadOnlyList<EncodedText> encoded = texts.Count == 0 ? [] : encoder.Encode(texts, null, maxLength);
        int[] lengths = [.. encoded.Select(e => e.InputIds.Length)];
        foreach (int[] batch in Batching.EvaluationBatches(lengths, batchSize))
        {
            List<Prediction> predictions = Run([.. batch.Select(i => encoded[i])]);
            for (int r = 0; r < batch.Length; r++)
            {
                results[batch[r]] = predictions[r];
            }
        }

        return results;
    }

    /// <inheritdoc />
    public IReadOnlyList<Prediction> PredictBatch(IReadOnlyList<string> texts) => PredictBatch(texts, 32);

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
    public void Dispose() => model.Dispose();

    private List<Prediction> PredictCore(IReadOnlyList<string> texts, IReadOnlyList<string>? pairs) => Run(encoder.Encode(texts, pairs, maxLength));

    private List<Prediction> Run(IReadOnlyList<EncodedText> encoded)
    {
        EncodedExample[] rows = [.. encoded.Select(e => new EncodedExample(e.InputIds, e.TokenTypeIds, -1, []))];
        int[] indices = [.. Enumerable.Range(0, rows.Length)];
        float[] flat;
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            (Tensor ids, Tensor mask, Tensor types) = Batching.Collate(rows, indices, encoder.PadTokenId, model.Device);
            Tensor logits = model.Head.forward(model.Features(ids, mask, types, 0));
            Tensor scores = model.ProblemType switch
            {
                ProblemType.SingleLabelClassification => logits.softmax(-1),
                ProblemType.MultiLabelClassification => logits.sigmoid(),
                _ => logits,
            };
            flat = scores.to(ScalarType.Float32).cpu().data<float>().ToArray();
        }

        int k = model.NumLabels;
        var predictions = new List<Prediction>(rows.Length);
        for (int r = 0; r < rows.Length; r++)
        {
            float[] row = flat[(r * k)..((r + 1) * k)];
            int best = 0;
            for (int c = 1; c < k; c++)
            {
                best = row[c] > row[best] ? c : best;
            }

            var probabilities = new Dictionary<string, float>(k, StringComparer.Ordinal);
            for (int c = 0; c < k; c++)
            {
                probabilities[model.Labels[c]] = row[c];
            }

            IReadOnlyList<string> chosen = model.ProblemType == ProblemType.MultiLabelClassification
                ? [.. Enumerable.Range(0, k).Where(c => row[c] >= 0.5f).Select(c => model.Labels[c])]
                : [model.Labels[best]];
            predictions.Add(new Prediction { Label = model.Labels[best], Score = row[best], Probabilities = probabilities, Labels = chosen });
        }

        return predictions;
    }
}
