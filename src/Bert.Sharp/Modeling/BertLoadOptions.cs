using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// How <see cref="BertModel.FromPretrained(string, BertLoadOptions?)"/> loads a checkpoint. The defaults load onto the CPU
/// in float32, refuse a checkpoint that lacks encoder weights or has them in other shapes, report keys the model does not
/// use (a task head, a pretraining head) through the logger and <see cref="BertModel.LoadReport"/>, and keep the checkpoint's
/// attention implementation.
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

    /// <summary>
    /// Load even when encoder weights are missing from the checkpoint (they stay randomly initialised and are logged as a
    /// warning). Off by default: a checkpoint that leaves part of the encoder random is almost always the wrong file.
    /// </summary>
    public bool AllowMissingWeights { get; init; }

    /// <summary>Receives warnings about missing, unexpected and mis-shaped keys; <c>null</c> logs nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Attention implementation to use (<c>eager</c> or <c>sdpa</c>); <c>null</c> keeps the config's.</summary>
    public string? AttentionImplementation { get; init; }

    /// <summary>Floating-point dtype of the parameters (for example <c>Float16</c> on a GPU); <c>null</c> keeps float32.</summary>
    public ScalarType? DType { get; init; }

    /// <summary>
    /// How a Hugging Face model id is fetched: revision, Hub settings (token for private or gated models, offline mode,
    /// timeouts, cache folder) and download progress; <c>null</c> for the defaults (the environment's <c>HF_TOKEN</c>, ...).
    /// Ignored for a local directory.
    /// </summary>
    public PretrainedResolveOptions? Hub { get; init; }
}
