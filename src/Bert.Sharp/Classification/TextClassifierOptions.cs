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
    public string? AttnImplementation { get; init; }

    /// <summary>Receives load messages.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}
