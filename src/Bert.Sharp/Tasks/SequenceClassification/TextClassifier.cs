using Bert.Sharp.Inference;
using Bert.Sharp.Runtime;
using Bert.Sharp.Serving;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// Serves a trained classifier: text in, label and probabilities out. Load the folder written by
/// <see cref="BertTaskModel.SavePretrained(string, BertTokenizer?)"/> or by <see cref="FineTuner"/> (<c>best</c>, <c>checkpoint-N</c>).
/// </summary>
/// <remarks>
/// Safe to call from several threads at once: prediction only reads the weights, runs without autograd and in evaluation
/// mode, and every call uses its own dispose scope; <see cref="Dispose"/> waits for calls in flight and later calls get an
/// <see cref="ObjectDisposedException"/>. Empty texts are classified as <c>[CLS] [SEP]</c>; texts longer than the model's
/// maximum are truncated. Batches run length-grouped and, where padding is heavy, unpadded.
/// </remarks>
public sealed partial class TextClassifier : ITextClassifier
{
    private readonly BertForSequenceClassification model;
    private readonly ITextEncoder encoder;
    private readonly int maxLength;
    private readonly int batchSize;
    private readonly MixedPrecision precision;
    private readonly float[] thresholds;
    private readonly UsageGuard guard = new(nameof(TextClassifier));

    internal TextClassifier(BertForSequenceClassification model, ITextEncoder encoder, TextClassifierOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(encoder);
        this.model = model;
        this.encoder = encoder;
        maxLength = Math.Min(options.MaxSequenceLength ?? int.MaxValue, Math.Min(model.Bert.Config.MaxSequenceLength, encoder.ModelMaxLength));
        batchSize = options.BatchSize;
        thresholds = MultiLabelThresholds.Resolve(model.Labels, options.MultiLabelThreshold, options.LabelThresholds, nameof(TextClassifierOptions));
        precision = MixedPrecision.Resolve(options.Precision, model.Device, $"{nameof(TextClassifierOptions)}.{nameof(TextClassifierOptions.Precision)}");
        precision.Log(options.LoggerFactory?.CreateLogger<TextClassifier>() ?? NullLogger<TextClassifier>.Instance, "Prediction");
        model.eval();
    }

    /// <summary>The labels the classifier chooses from, in class-index order.</summary>
    public IReadOnlyList<string> Labels => model.Labels;

    /// <summary>
    /// The precision predictions run in (<see cref="InferenceOptions.Precision"/>, or <see cref="InferencePrecision.Float32"/>
    /// when the reduced precision asked for cannot be used here; the log says why).
    /// </summary>
    public InferencePrecision Precision => precision.EffectiveForInference;

    /// <summary>
    /// Multi-label: each label's decision threshold (<see cref="TextClassifierOptions.MultiLabelThreshold"/>, or the label's
    /// own from <see cref="TextClassifierOptions.LabelThresholds"/>), by label, in label order.
    /// </summary>
    public IReadOnlyDictionary<string, float> Thresholds => Labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => thresholds[x.i], StringComparer.Ordinal);

    /// <summary>
    /// The underlying model (do not dispose it; dispose the classifier). On the CPU its linear weights are stored
    /// column-major, which LibTorch multiplies faster for short texts (same values, shapes and saved files);
    /// <see cref="FineTuner"/> stores them row-major again before training.
    /// </summary>
    public BertForSequenceClassification Model => model;

    /// <summary>The LoRA adapters loaded (see <see cref="LoadAdapter"/>); empty for a plain model.</summary>
    public IReadOnlyList<string> AdapterNames => model.Adapters.Names;

    /// <summary>
    /// Loads a PEFT LoRA adapter folder (another task's adapter trained on the same base, with a head of the same labels) as
    /// <paramref name="adapterName"/>, so one base serves several tasks: choose per call with
    /// <see cref="Predict(string, string?, string?)"/> or <see cref="PredictBatch(IReadOnlyList{string}, string?)"/>. Load
    /// adapters before serving: loading while predictions run is not safe.
    /// </summary>
    /// <inheritdoc cref="ModelAdapters.Load"/>
    public void LoadAdapter(string directory, string adapterName)
    {
        using UsageGuard.Lease lease = guard.Enter();
        model.Adapters.Load(directory, adapterName);
    }

    /// <summary>Classifies one text (or text pair) with adapter <paramref name="adapter"/> (<c>null</c>: the base model — the encoder without adapters and the head it had before them, see <see cref="ModelAdapters.Active"/>), whatever the model's active adapter.</summary>
    /// <exception cref="KeyNotFoundException">No adapter has that name.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="adapter"/> is <c>null</c> and the base model's head was newly initialised at loading (its checkpoint had none), so its predictions would be random.</exception>
    /// <exception cref="ObjectDisposedException">The classifier was disposed.</exception>
    public Prediction Predict(string text, string? textPair, string? adapter)
    {
        using Sharp.Adapters.AdapterSelection.Scope selection = model.Adapters.UseOnThisThread(adapter);
        return Predict(text, textPair);
    }

    /// <summary>Classifies many texts with adapter <paramref name="adapter"/> (<c>null</c>: the base model — the encoder without adapters and the head it had before them, see <see cref="ModelAdapters.Active"/>); safe to call concurrently with other adapters.</summary>
    /// <exception cref="KeyNotFoundException">No adapter has that name.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="adapter"/> is <c>null</c> and the base model's head was newly initialised at loading (its checkpoint had none), so its predictions would be random.</exception>
    /// <exception cref="ObjectDisposedException">The classifier was disposed.</exception>
    public IReadOnlyList<Prediction> PredictBatch(IReadOnlyList<string> texts, string? adapter)
    {
        using Sharp.Adapters.AdapterSelection.Scope selection = model.Adapters.UseOnThisThread(adapter);
        return PredictBatch(texts);
    }

    /// <summary>Classifies one text (or text pair).</summary>
    /// <exception cref="ObjectDisposedException">The classifier was disposed.</exception>
    public Prediction Predict(string text, string? textPair = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        using UsageGuard.Lease lease = guard.Enter();
        return Run(encoder.Encode([text], textPair is null ? null : [textPair], maxLength))[0];
    }

    /// <summary>Classifies many texts, <see cref="InferenceOptions.BatchSize"/> at a time (similar lengths batched together); results are in input order.</summary>
    /// <exception cref="ArgumentException">A text is null; the message gives its index.</exception>
    /// <exception cref="ObjectDisposedException">The classifier was disposed.</exception>
    public IReadOnlyList<Prediction> PredictBatch(IReadOnlyList<string> texts) => PredictBatch(texts, CancellationToken.None);

    private Prediction[] PredictBatch(IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        TextArguments.ThrowIfAnyNull(texts);

        using UsageGuard.Lease lease = guard.Enter();
        return RunInLengthGroups(texts.Count == 0 ? [] : encoder.Encode(texts, null, maxLength), cancellationToken);
    }

    /// <summary>
    /// Classifies many sentence pairs (premise and hypothesis, question and passage, ...), <see cref="InferenceOptions.BatchSize"/>
    /// at a time (similar lengths batched together), as <see cref="Predict(string, string?)"/> does one; results are in input order.
    /// </summary>
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

        using UsageGuard.Lease lease = guard.Enter();
        return RunInLengthGroups(pairs.Count == 0 ? [] : encoder.Encode([.. pairs.Select(p => p.Text)], [.. pairs.Select(p => p.TextPair)], maxLength));
    }

    // Batches of similar lengths (less padding), predictions put back in input order.
    private Prediction[] RunInLengthGroups(IReadOnlyList<EncodedText> encoded, CancellationToken cancellationToken = default) =>
        LengthGroupedBatches.Run(encoded, batchSize, batch => Run([.. batch.Select(i => encoded[i])]), cancellationToken);

    /// <inheritdoc />
    public Task<Prediction> PredictAsync(string text, CancellationToken cancellationToken = default) =>
        SyncPrediction.RunAsync(text, t => Predict(t), cancellationToken);

    /// <inheritdoc />
    /// <remarks>Runs on the thread pool; <paramref name="cancellationToken"/> is checked before each batch, so cancelling stops the work within one batch.</remarks>
    public Task<IReadOnlyList<Prediction>> PredictBatchAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        SyncPrediction.RunAsync(texts, t => (IReadOnlyList<Prediction>)PredictBatch(t, cancellationToken), cancellationToken);

    /// <summary>Frees the weights once the predictions in flight have finished.</summary>
    public void Dispose()
    {
        if (guard.BeginDispose())
        {
            model.Dispose();
        }
    }

    private List<Prediction> Run(IReadOnlyList<EncodedText> encoded)
    {
        int[] indices = [.. Enumerable.Range(0, encoded.Count)];
        float[] flat;
        // inference_mode, not no_grad: no autograd bookkeeping per operator, which is much of one short text's cost; nothing
        // made here stays in the model, which may be trained afterwards (ServingInferenceModeTests).
        using (inference_mode())
        using (var scope = NewDisposeScope())
        using (IDisposable? autocast = precision.Enter())
        {
            (Tensor ids, Tensor? mask, Tensor types) = TensorBatch.CollateForServing(encoded, indices, encoder.PadTokenId, model.Device);
            Tensor logits = model.Logits(ids, mask, types);
            Tensor scores = model.ProblemType switch
            {
                ProblemType.SingleLabelClassification => logits.softmax(-1),
                ProblemType.MultiLabelClassification => logits.sigmoid(),
                _ => logits,
            };
            flat = Runtime.HostRead.Values<float>(scores.to(ScalarType.Float32));
        }

        int k = model.NumLabels;
        var predictions = new List<Prediction>(encoded.Count);
        for (int r = 0; r < encoded.Count; r++)
        {
            predictions.Add(Prediction.FromScores(model.Labels, model.ProblemType, flat.AsSpan(r * k, k), thresholds));
        }

        return predictions;
    }
}
