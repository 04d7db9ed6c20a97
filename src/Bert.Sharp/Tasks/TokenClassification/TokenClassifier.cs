using Bert.Sharp.Hub;
using Bert.Sharp.Inference;
using Bert.Sharp.Runtime;
using Bert.Sharp.Serving;
using Bert.Sharp.TokenClassification;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// Serves a trained token classifier: text in, entities out — each with its type (<see cref="Entity.Group"/>), its characters
/// and their offsets in the input, and a score — grouped as Hugging Face's token-classification pipeline does for the chosen
/// <see cref="AggregationStrategy"/>.
/// </summary>
/// <remarks>
/// Safe to call from several threads at once; <see cref="Dispose"/> waits for calls in flight. Texts longer than the model's
/// maximum are truncated (entities after the cut are not found).
/// </remarks>
public sealed class TokenClassifier : ITokenClassifier
{
    private readonly BertForTokenClassification model;
    private readonly IServingTextEncoder encoder;
    private readonly TokenClassifierOptions options;
    private readonly int maxLength;
    private readonly UsageGuard guard = new(nameof(TokenClassifier));
    private readonly MixedPrecision precision;

    private TokenClassifier(BertForTokenClassification model, IServingTextEncoder encoder, TokenClassifierOptions options)
    {
        this.model = model;
        this.encoder = encoder;
        this.options = options;
        maxLength = Math.Min(options.MaxSequenceLength ?? int.MaxValue, Math.Min(model.Bert.Config.MaxSequenceLength, encoder.ModelMaxLength));
        precision = MixedPrecision.Resolve(options.Precision, model.Device, $"{nameof(TokenClassifierOptions)}.{nameof(TokenClassifierOptions.Precision)}");
        precision.Log(options.LoggerFactory?.CreateLogger<TokenClassifier>() ?? NullLogger<TokenClassifier>.Instance, "Prediction");
        model.eval();
    }

    /// <summary>
    /// The precision predictions run in (<see cref="InferenceOptions.Precision"/>, or <see cref="InferencePrecision.Float32"/>
    /// when the reduced precision asked for cannot be used here; the log says why).
    /// </summary>
    public InferencePrecision Precision => precision.EffectiveForInference;

    /// <summary>The tags the model predicts per token, in class-index order.</summary>
    public IReadOnlyList<string> Labels => model.Labels;

    /// <summary>How token predictions become entities.</summary>
    public AggregationStrategy Aggregation => options.Aggregation;

    /// <summary>
    /// The underlying model (do not dispose it; dispose the classifier). On the CPU its linear weights are stored
    /// column-major, which LibTorch multiplies faster for short texts (same values, shapes and saved files);
    /// <see cref="FineTuner"/> stores them row-major again before training.
    /// </summary>
    public BertForTokenClassification Model => model;

    /// <summary>
    /// <see cref="FromPretrained(string, TokenClassifierOptions?)"/> that downloads asynchronously: a Hub model id is fetched into the shared
    /// cache without blocking the calling thread (cancellation and the Hub timeouts apply), then the local folder is loaded.
    /// </summary>
    /// <param name="directory">A local directory, or a Hugging Face model id.</param>
    /// <param name="options">Load options, as for the synchronous form; their <c>Hub</c> settings apply to the download.</param>
    /// <param name="cancellationToken">Cancels the download; a partial file is kept and resumed next time.</param>
    /// <returns>What the synchronous form returns.</returns>
    /// <exception cref="HubException">The model could not be fetched.</exception>
    public static Task<TokenClassifier> FromPretrainedAsync(string directory, TokenClassifierOptions? options = null, CancellationToken cancellationToken = default) =>
        PretrainedLoading.ResolveThenLoadAsync(directory, options?.Hub, resolved => FromPretrained(resolved, options), cancellationToken);

    /// <summary>Loads a fine-tuned token-classification folder (config, weights and tokenizer files).</summary>
    /// <param name="directory">The model folder, or a hub model id.</param>
    /// <param name="options">Aggregation, device, limits, logging.</param>
    /// <exception cref="FileNotFoundException">No config, weights or tokenizer files.</exception>
    /// <exception cref="InvalidDataException">The folder holds no trained token-classification head, or a damaged file.</exception>
    public static TokenClassifier FromPretrained(string directory, TokenClassifierOptions? options = null) =>
        TrainedTaskLoading.Load(
            directory,
            "token classifier",
            options,
            (resolved, loadOptions) => BertForTokenClassification.FromPretrained(resolved, null, loadOptions),
            (model, encoder, validated) => new TokenClassifier(model, encoder, validated));

    /// <summary>The LoRA adapters loaded (see <see cref="LoadAdapter"/>); empty for a plain model.</summary>
    public IReadOnlyList<string> AdapterNames => model.Adapters.Names;

    /// <summary>
    /// Loads a PEFT LoRA adapter folder (another tagging task trained on the same base, with the same tags) as
    /// <paramref name="adapterName"/>, so one base serves several taggers: choose per call with
    /// <see cref="Predict(string, string?)"/> or <see cref="PredictBatch(IReadOnlyList{string}, string?)"/>. Load adapters
    /// before serving: loading while predictions run is not safe.
    /// </summary>
    /// <inheritdoc cref="ModelAdapters.Load"/>
    public void LoadAdapter(string directory, string adapterName)
    {
        using UsageGuard.Lease lease = guard.Enter();
        model.Adapters.Load(directory, adapterName);
    }

    /// <summary>The entities of one text with adapter <paramref name="adapter"/> (<c>null</c>: the base model — the encoder without adapters and the head it had before them, see <see cref="ModelAdapters.Active"/>), whatever the model's active adapter.</summary>
    /// <exception cref="KeyNotFoundException">No adapter has that name.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="adapter"/> is <c>null</c> and the base model's head was newly initialised at loading (its checkpoint had none), so its predictions would be random.</exception>
    /// <exception cref="ObjectDisposedException">The classifier was disposed.</exception>
    public IReadOnlyList<Entity> Predict(string text, string? adapter)
    {
        using Sharp.Adapters.AdapterSelection.Scope selection = model.Adapters.UseOnThisThread(adapter);
        return Predict(text);
    }

    /// <summary>The entities of many texts with adapter <paramref name="adapter"/> (<c>null</c>: the base model — the encoder without adapters and the head it had before them, see <see cref="ModelAdapters.Active"/>); safe to call concurrently with other adapters.</summary>
    /// <exception cref="KeyNotFoundException">No adapter has that name.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="adapter"/> is <c>null</c> and the base model's head was newly initialised at loading (its checkpoint had none), so its predictions would be random.</exception>
    /// <exception cref="ObjectDisposedException">The classifier was disposed.</exception>
    public IReadOnlyList<IReadOnlyList<Entity>> PredictBatch(IReadOnlyList<string> texts, string? adapter)
    {
        using Sharp.Adapters.AdapterSelection.Scope selection = model.Adapters.UseOnThisThread(adapter);
        return PredictBatch(texts);
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
        TextArguments.ThrowIfAnyNull(texts);

        using UsageGuard.Lease lease = guard.Enter();
        if (texts.Count == 0)
        {
            return [];
        }

        IReadOnlyList<TokenizedRow> tokenized = encoder.Tokenize(texts, maxLength);
        EncodedText[] rows = [.. tokenized.Select(t => t.Encoded)];
        return LengthGroupedBatches.Run<IReadOnlyList<Entity>>(rows, options.BatchSize, batch =>
        {
            float[][][] probabilities = Run(rows, batch);
            return [.. batch.Select((i, r) => EntityAggregator.Aggregate(texts[i], tokenized[i].Predictions(t => probabilities[r][t]), model.Labels, options.Aggregation))];
        });
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Entity>> PredictAsync(string text, CancellationToken cancellationToken = default) =>
        SyncPrediction.RunAsync(text, t => Predict(t), cancellationToken);

    /// <summary>Frees the weights once the predictions in flight have finished.</summary>
    public void Dispose()
    {
        if (guard.BeginDispose())
        {
            model.Dispose();
        }
    }

    // Softmax probabilities per token of each row of the batch.
    private float[][][] Run(EncodedText[] rows, int[] batch)
    {
        float[] flat;
        long width;
        // inference_mode, not no_grad: no autograd bookkeeping per operator, which is much of one short text's cost; nothing
        // made here stays in the model, which may be trained afterwards (ServingInferenceModeTests).
        using (inference_mode())
        using (var scope = NewDisposeScope())
        using (IDisposable? autocast = precision.Enter())
        {
            (Tensor ids, Tensor? mask, Tensor types) = TensorBatch.CollateForServing(rows, batch, encoder.PadTokenId, model.Device);
            Tensor probabilities = model.Logits(ids, mask, types).to(ScalarType.Float32).softmax(-1);
            width = probabilities.shape[1];
            flat = Runtime.HostRead.Values<float>(probabilities.to(ScalarType.Float32));
        }

        int k = model.NumLabels;
        var result = new float[batch.Length][][];
        for (int r = 0; r < batch.Length; r++)
        {
            int length = rows[batch[r]].InputIds.Length;
            result[r] = [.. Enumerable.Range(0, length).Select(c => flat.AsSpan((int)(((r * width) + c) * k), k).ToArray())];
        }

        return result;
    }
}
