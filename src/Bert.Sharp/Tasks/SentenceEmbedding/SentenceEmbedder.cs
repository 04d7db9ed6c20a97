using Bert.Sharp.Hub;
using Bert.Sharp.Inference;
using Bert.Sharp.Runtime;
using Bert.Sharp.Serving;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// Turns texts into vectors with a sentence-transformers model (the embedded all-MiniLM-L6-v2, or any folder Python's
/// <c>SentenceTransformer</c> saves): mean, CLS or max pooling and optional L2 normalisation, read from the folder's
/// <c>modules.json</c> and <c>1_Pooling/config.json</c>. Implements <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>, the
/// .NET abstraction Semantic Kernel and vector stores take.
/// </summary>
/// <remarks>
/// Batches are length-grouped (similar lengths together, results in input order). Safe to call from several threads;
/// <see cref="Dispose"/> waits for calls in flight.
/// </remarks>
public sealed class SentenceEmbedder : IEmbeddingGenerator<string, Embedding<float>>, ISentenceEmbedder
{
    private readonly BertForSentenceEmbedding model;
    private readonly ITextEncoder encoder;
    private readonly int maxLength;
    private readonly int batchSize;
    private readonly string modelId;
    private readonly UsageGuard guard = new(nameof(SentenceEmbedder));
    private readonly MixedPrecision precision;

    private SentenceEmbedder(BertForSentenceEmbedding model, ITextEncoder encoder, SentenceEmbeddingOptions options, string modelId)
    {
        this.model = model;
        this.encoder = encoder;
        this.modelId = modelId;
        batchSize = options.BatchSize;
        maxLength = Math.Min(model.MaxSequenceLength ?? int.MaxValue, Math.Min(model.Bert.Config.MaxSequenceLength, encoder.ModelMaxLength));
        precision = MixedPrecision.Resolve(options.Precision, model.Device, $"{nameof(SentenceEmbeddingOptions)}.{nameof(SentenceEmbeddingOptions.Precision)}");
        precision.Log(options.LoggerFactory?.CreateLogger<SentenceEmbedder>() ?? NullLogger<SentenceEmbedder>.Instance, "Embedding");
        model.eval();
    }

    /// <summary>
    /// The precision embeddings are computed in (<see cref="InferenceOptions.Precision"/>, or
    /// <see cref="InferencePrecision.Float32"/> when the reduced precision asked for cannot be used here; the log says why).
    /// </summary>
    public InferencePrecision Precision => precision.EffectiveForInference;

    /// <summary>Length of every vector (the model's hidden size).</summary>
    public int Dimensions => model.Bert.Config.HiddenSize;

    /// <summary>How token states become one vector.</summary>
    public PoolingStrategy Pooling => model.Pooling;

    /// <summary>Whether vectors have unit length.</summary>
    public bool Normalize => model.Normalize;

    /// <summary>
    /// <see cref="FromPretrained(string, SentenceEmbeddingOptions?)"/> that downloads asynchronously: a Hub model id is fetched into the shared
    /// cache without blocking the calling thread (cancellation and the Hub timeouts apply), then the local folder is loaded.
    /// </summary>
    /// <param name="directoryOrModelId">A local directory, or a Hugging Face model id.</param>
    /// <param name="options">Load options, as for the synchronous form; their <c>Hub</c> settings apply to the download.</param>
    /// <param name="cancellationToken">Cancels the download; a partial file is kept and resumed next time.</param>
    /// <returns>What the synchronous form returns.</returns>
    /// <exception cref="HubException">The model could not be fetched.</exception>
    public static Task<SentenceEmbedder> FromPretrainedAsync(string directoryOrModelId, SentenceEmbeddingOptions? options = null, CancellationToken cancellationToken = default) =>
        PretrainedLoading.ResolveThenLoadAsync(directoryOrModelId, options?.Hub, resolved => FromPretrained(resolved, options), cancellationToken);

    /// <summary>Loads a model folder (or Hub id) for embedding.</summary>
    /// <param name="directoryOrModelId">A sentence-transformers folder, or any BERT checkpoint (then mean pooling, no normalisation, unless <paramref name="options"/> say otherwise).</param>
    /// <param name="options">Pooling, normalisation, limits, device, logging.</param>
    /// <exception cref="FileNotFoundException">No config, weights or tokenizer files.</exception>
    /// <exception cref="InvalidDataException">A file is malformed or names a pooling Bert.Sharp does not implement.</exception>
    public static SentenceEmbedder FromPretrained(string directoryOrModelId, SentenceEmbeddingOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directoryOrModelId);
        options ??= new SentenceEmbeddingOptions();
        options.Validate();
        string directory = PretrainedResolver.ResolveDirectory(directoryOrModelId, options.Hub);
        // A WordPiece tokenizer is read before the weights (as before); a subword one (RoBERTa, XLM-R) after them, as it pads with the model's pad_token_id.
        bool subword = ServingTextEncoders.IsSubword(directory);
        BertTokenizer? wordPiece = subword ? null : BertTokenizer.FromPretrained(directory);
        BertForSentenceEmbedding model = BertForSentenceEmbedding.FromPretrained(directory, options);
        try
        {
            ITextEncoder encoder = wordPiece is null ? ServingTextEncoders.Load(directory, model.Bert.Config.PadTokenId) : new TokenizerTextEncoder(wordPiece);
            // The embedder owns the model: its linear weights take the layout that serves short texts faster on the CPU.
            Modeling.LinearWeightLayout.UseForServing(model, options.PackWeights);
            return new SentenceEmbedder(model, encoder, options, directoryOrModelId);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The vector of each text, in input order.</summary>
    /// <exception cref="ArgumentException">A text is null; the message gives its index.</exception>
    /// <exception cref="ObjectDisposedException">The embedder was disposed.</exception>
    public float[][] Embed(IReadOnlyList<string> texts)
    {
        TextArguments.ThrowIfAnyNull(texts);

        using UsageGuard.Lease lease = guard.Enter();
        if (texts.Count == 0)
        {
            return [];
        }

        IReadOnlyList<EncodedText> rows = encoder.Encode(texts, null, maxLength);
        int width = Dimensions;
        return LengthGroupedBatches.Run(rows, batchSize, batch =>
        {
            float[] flat;
            // inference_mode, not no_grad: no autograd bookkeeping per operator, which is much of one short text's cost; nothing
            // made here stays in the model, which may be trained afterwards (ServingInferenceModeTests).
            using (inference_mode())
            using (var scope = NewDisposeScope())
            using (IDisposable? autocast = precision.Enter())
            {
                (Tensor ids, Tensor? mask, Tensor types) = TensorBatch.CollateForServing(rows, batch, encoder.PadTokenId, model.Device);
                flat = Runtime.HostRead.Values<float>(model.Forward(ids, mask, types).to(ScalarType.Float32));
            }

            return Enumerable.Range(0, batch.Length).Select(r => flat[(r * width)..((r + 1) * width)]).ToArray();
        });
    }

    /// <summary>The vector of one text.</summary>
    public float[] Embed(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Embed([text])[0];
    }

    /// <inheritdoc />
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (options?.Dimensions is int dimensions && dimensions != Dimensions)
        {
            throw new ArgumentException($"This model makes {Dimensions}-dimensional vectors; {dimensions} were asked for.", nameof(options));
        }

        string[] texts = [.. values];
        return Task.Run(
            () =>
            {
                DateTimeOffset created = DateTimeOffset.UtcNow;
                float[][] vectors = Embed(texts);
                return new GeneratedEmbeddings<Embedding<float>>(vectors.Select(v => new Embedding<float>(v) { ModelId = modelId, CreatedAt = created }));
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(EmbeddingGeneratorMetadata))
        {
            return new EmbeddingGeneratorMetadata("Bert.Sharp", null, modelId, Dimensions);
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>Frees the weights once the calls in flight have finished.</summary>
    public void Dispose()
    {
        if (guard.BeginDispose())
        {
            model.Dispose();
        }
    }
}
