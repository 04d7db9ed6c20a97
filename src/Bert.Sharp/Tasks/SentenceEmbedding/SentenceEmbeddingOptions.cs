using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// How <see cref="SentenceEmbedder"/> and <see cref="BertForSentenceEmbedding"/> load a model and turn token states into one
/// vector. Pooling and normalisation default to what the folder's sentence-transformers files say (<c>modules.json</c>,
/// <c>1_Pooling/config.json</c>); without them, mean pooling and no normalisation.
/// </summary>
public sealed record SentenceEmbeddingOptions
{
    /// <summary>Mean, CLS or max pooling (<see cref="PoolingStrategy.Pooler"/> uses BERT's pooler); <c>null</c> reads the folder.</summary>
    public PoolingStrategy? Pooling { get; init; }

    /// <summary>Scale every vector to unit length (then a dot product is the cosine similarity); <c>null</c> reads the folder.</summary>
    public bool? Normalize { get; init; }

    /// <summary>Longest input in tokens (longer texts are truncated); <c>null</c> is the folder's <c>max_seq_length</c>, else the model's maximum.</summary>
    public int? MaxSequenceLength { get; init; }

    /// <summary>Texts per forward pass (similar lengths batched together).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>The device to run on; <c>null</c> is the CPU.</summary>
    public Device? Device { get; init; }

    /// <summary>Attention kernel (<c>eager</c>, <c>sdpa</c> or <c>chunked</c>); <c>null</c> keeps the config's.</summary>
    public string? AttentionImplementation { get; init; }

    /// <summary>Receives load messages.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// How a Hugging Face model id is fetched: revision, Hub settings (token for private or gated models, offline mode,
    /// timeouts, cache folder) and download progress; <c>null</c> for the defaults (the environment's <c>HF_TOKEN</c>, ...).
    /// Ignored for a local directory.
    /// </summary>
    public PretrainedResolveOptions? Hub { get; init; }

    /// <summary>
    /// The arithmetic of inference: <see cref="TrainingPrecision.BFloat16"/> runs matrix products and attention in bf16
    /// (autocast; LayerNorm, softmax and the outputs stay fp32), fast where the CPU has AVX512_BF16 or AMX, or on CUDA (on other
    /// CPUs it runs, slower, after a warning); <see cref="TrainingPrecision.Float16"/> needs a CUDA device.
    /// <see cref="SentenceEmbedder.Precision"/> states what runs.
    /// </summary>
    public TrainingPrecision Precision { get; init; } = TrainingPrecision.Float32;

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> naming the option at fault.</summary>
    public void Validate()
    {
        if (BatchSize <= 0)
        {
            throw new ArgumentException($"{nameof(BatchSize)} must be positive, got {BatchSize}.");
        }

        if (MaxSequenceLength is < 2)
        {
            throw new ArgumentException($"{nameof(MaxSequenceLength)} must be at least 2 ([CLS] and [SEP]), got {MaxSequenceLength}.");
        }

        if (Pooling is PoolingStrategy p && !Enum.IsDefined(p))
        {
            throw new ArgumentException($"{nameof(Pooling)} {(int)p} is not a pooling strategy.");
        }

        if (!Enum.IsDefined(Precision))
        {
            throw new ArgumentException($"{nameof(Precision)} must be a {nameof(TrainingPrecision)}, got {(int)Precision}.");
        }
    }
}
