using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// What every <c>FromPretrained</c> of a task model or a predictor reads besides the folder: where the model runs, its
/// attention kernel, where load messages go and how a Hub model id is fetched. <see cref="ClassifierLoadOptions"/> and
/// the predictors' options (<see cref="InferenceOptions"/>) add their own.
/// </summary>
public abstract record ModelLoadOptions
{
    /// <summary>The device to run on; <c>null</c> is the CPU.</summary>
    public Device? Device { get; init; }

    /// <summary>Attention kernel (<c>eager</c>, <c>sdpa</c> or <c>chunked</c>); <c>null</c> keeps the config's.</summary>
    public string? AttentionImplementation { get; init; }

    /// <summary>Receives load messages (Hugging Face style reports of newly initialised and unused weights among them).</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// How a Hugging Face model id is fetched: revision, Hub settings (token for private or gated models, offline mode,
    /// timeouts, cache folder) and download progress; <c>null</c> for the defaults (the environment's <c>HF_TOKEN</c>, ...).
    /// Ignored for a local directory.
    /// </summary>
    public PretrainedResolveOptions? Hub { get; init; }
}
