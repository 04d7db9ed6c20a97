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
    }
}
