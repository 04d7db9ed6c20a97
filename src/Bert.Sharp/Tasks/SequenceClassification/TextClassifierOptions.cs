using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>How <see cref="TextClassifier.FromPretrained(string, TextClassifierOptions?)"/> loads a classifier.</summary>
public sealed record TextClassifierOptions
{
    /// <summary>The device to run on; <c>null</c> is the CPU.</summary>
    public Device? Device { get; init; }

    /// <summary>Longest input in tokens (longer texts are truncated); <c>null</c> is the model's and tokenizer's maximum.</summary>
    public int? MaxSequenceLength { get; init; }

    /// <summary>Attention kernel (<c>eager</c> or <c>sdpa</c>); <c>null</c> keeps the config's.</summary>
    public string? AttentionImplementation { get; init; }

    /// <summary>Receives load messages.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Texts per forward pass in <see cref="TextClassifier.PredictBatch(IReadOnlyList{string})"/> (similar lengths are batched together).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>
    /// How a Hugging Face model id is fetched: revision, Hub settings (token for private or gated models, offline mode,
    /// timeouts, cache folder) and download progress; <c>null</c> for the defaults (the environment's <c>HF_TOKEN</c>, ...).
    /// Ignored for a local directory.
    /// </summary>
    public PretrainedResolveOptions? Hub { get; init; }

    /// <summary>
    /// The arithmetic of prediction: <see cref="TrainingPrecision.BFloat16"/> runs matrix products and attention in bf16
    /// (fast on CPUs with AVX512_BF16 or AMX and on recent GPUs; a warning is logged elsewhere, where it is much slower);
    /// <see cref="TrainingPrecision.Float16"/> needs a CUDA device. <see cref="TextClassifier.Precision"/> states what runs.
    /// </summary>
    public TrainingPrecision Precision { get; init; } = TrainingPrecision.Float32;

    /// <summary>
    /// Multi-label models (<see cref="ProblemType.MultiLabelClassification"/>): a label is in <see cref="Prediction.Labels"/>
    /// when its sigmoid probability is at least this. Default 0.5; lower it to favour recall (a label scored 0.47 is returned
    /// with 0.4). Ignored by single-label and regression models.
    /// </summary>
    public float MultiLabelThreshold { get; init; } = 0.5f;

    /// <summary>
    /// Multi-label models: thresholds for single labels, by label name, overriding <see cref="MultiLabelThreshold"/> for them
    /// (rare labels often want a lower one). A name the model does not have is an error at loading. <c>null</c>: none.
    /// </summary>
    public IReadOnlyDictionary<string, float>? LabelThresholds { get; init; }

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> naming the option at fault.</summary>
    public void Validate()
    {
        if (BatchSize <= 0)
        {
            throw new ArgumentException($"{nameof(BatchSize)} must be positive, got {BatchSize}.");
        }

        if (!Enum.IsDefined(Precision))
        {
            throw new ArgumentException($"{nameof(Precision)} must be a {nameof(TrainingPrecision)}, got {(int)Precision}.");
        }

        MultiLabelThresholds.Validate(MultiLabelThreshold, LabelThresholds, nameof(TextClassifierOptions));
        if (MaxSequenceLength is < 2)
        {
            throw new ArgumentException($"{nameof(MaxSequenceLength)} must be at least 2 ([CLS] and [SEP]), got {MaxSequenceLength}.");
        }
    }
}
