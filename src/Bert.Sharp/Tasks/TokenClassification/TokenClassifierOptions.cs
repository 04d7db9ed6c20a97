using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>How <see cref="TokenClassifier.FromPretrained"/> loads a token classifier and groups its predictions.</summary>
public sealed record TokenClassifierOptions
{
    /// <summary>
    /// How token predictions become entities (Hugging Face's <c>aggregation_strategy</c>). The default,
    /// <see cref="AggregationStrategy.First"/>, gives every word the label of its first piece — how Bert.Sharp trains by
    /// default (<c>FineTuningOptions.LabelAllTokens</c> off), so entities never end inside a word ("Ve" + "rizon");
    /// <see cref="AggregationStrategy.Simple"/> groups piece by piece and suits models trained with every piece labelled.
    /// Hugging Face's pipeline defaults to <see cref="AggregationStrategy.None"/>, one result per token.
    /// </summary>
    public AggregationStrategy Aggregation { get; init; } = AggregationStrategy.First;

    /// <summary>The device to run on; <c>null</c> is the CPU.</summary>
    public Device? Device { get; init; }

    /// <summary>Longest input in tokens (longer texts are truncated); <c>null</c> is the model's and tokenizer's maximum.</summary>
    public int? MaxSequenceLength { get; init; }

    /// <summary>Texts per forward pass in <see cref="TokenClassifier.PredictBatch(IReadOnlyList{string})"/>.</summary>
    public int BatchSize { get; init; } = 32;

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
    /// <see cref="TokenClassifier.Precision"/> states what runs.
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

        if (!Enum.IsDefined(Aggregation))
        {
            throw new ArgumentException($"{nameof(Aggregation)} {(int)Aggregation} is not an aggregation strategy.");
        }

        if (!Enum.IsDefined(Precision))
        {
            throw new ArgumentException($"{nameof(Precision)} must be a {nameof(TrainingPrecision)}, got {(int)Precision}.");
        }
    }
}
