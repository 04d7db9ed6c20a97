using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// How <see cref="BertModel.FromPretrained(string, BertLoadOptions?)"/> loads a checkpoint. The defaults load onto the CPU
/// in float32, tolerate missing and unexpected keys (reported through the logger), and keep the checkpoint's attention
/// implementation.
/// </summary>
public sealed record BertLoadOptions
{
    /// <summary>Device to place the model on; <c>null</c> keeps it on the CPU.</summary>
    public Device? Device { get; init; }

    /// <summary>
    /// Fail with <see cref="InvalidDataException"/> unless every key of the model and the checkpoint matches in name and
    /// shape. Use it when the checkpoint must be exactly this architecture (serving, conformance checks).
    /// </summary>
    public bool Strict { get; init; }

    /// <summary>Receives warnings about missing, unexpected and mis-shaped keys; <c>null</c> logs nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Attention implementation to use (<c>eager</c> or <c>sdpa</c>); <c>null</c> keeps the config's.</summary>
    public string? AttnImplementation { get; init; }

    /// <summary>Floating-point dtype of the parameters (for example <c>Float16</c> on a GPU); <c>null</c> keeps float32.</summary>
    public ScalarType? DType { get; init; }
}
