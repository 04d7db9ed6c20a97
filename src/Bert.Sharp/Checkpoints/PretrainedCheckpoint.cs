using Bert.Sharp.IO;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Checkpoints;

/// <summary>
/// What every <c>FromPretrained</c> does before and after building its model: resolve the argument, finish an interrupted
/// save, read the config, load the weights onto the CPU, then copy them into the model with Hugging Face's checks. Owns the
/// loaded tensors until disposed.
/// </summary>
internal sealed class PretrainedCheckpoint : IDisposable
{
    private PretrainedCheckpoint(string directory, BertConfig config, Dictionary<string, Tensor> state)
    {
        Directory = directory;
        Config = config;
        State = state;
    }

    /// <summary>The resolved model directory.</summary>
    public string Directory { get; }

    /// <summary>The config (with the requested attention implementation applied).</summary>
    public BertConfig Config { get; }

    /// <summary>The checkpoint's tensors by key (CPU, float32).</summary>
    public Dictionary<string, Tensor> State { get; }

    /// <summary>Whether the weights include a pooler, under either the base or the task-model prefix.</summary>
    public bool HasPooler =>
        State.Keys.Any(k => k.StartsWith("pooler.", StringComparison.Ordinal) || k.StartsWith(BertModel.BasePrefix + ".pooler.", StringComparison.Ordinal));

    /// <summary>
    /// Resolves <paramref name="directoryOrModelId"/> (a local directory is used as it is; anything else is a Hub id), finishes
    /// a save that was interrupted after it was complete, reads <c>config.json</c> (with <paramref name="attnImplementation"/>
    /// applied when given) and the weights.
    /// </summary>
    public static PretrainedCheckpoint Open(string directoryOrModelId, string? attnImplementation, ILogger logger, PretrainedResolveOptions? hub = null)
    {
        string directory = PretrainedResolver.ResolveDirectory(directoryOrModelId, hub);
        ModelFolderWriter.Recover(directory);
        string configFile = Path.Combine(directory, "config.json");
        if (!File.Exists(configFile))
        {
            throw new FileNotFoundException($"No config.json in model directory '{directory}': looked for '{configFile}'.", configFile);
        }

        BertConfig config = BertConfig.Load(configFile);
        if (attnImplementation is not null)
        {
            config = config with { AttentionImplementation = attnImplementation };
        }

        TorchRuntime.EnsureLoaded();
        CheckpointLog.Loading(logger, directory);
        return new PretrainedCheckpoint(directory, config, CheckpointFiles.LoadStateDict(directory));
    }

    /// <summary>Removes (and disposes) a checkpoint tensor, e.g. a head that is replaced.</summary>
    public void Drop(string key)
    {
        if (State.Remove(key, out Tensor? tensor))
        {
            tensor.Dispose();
        }
    }

    /// <summary>
    /// Copies the checkpoint into <paramref name="module"/> as Hugging Face does (legacy names mapped, the <c>bert.</c> prefix
    /// added or stripped), and refuses a result that would be silently wrong.
    /// </summary>
    /// <param name="module">The model.</param>
    /// <param name="basePrefix">The base model's attribute name in task models (<c>bert</c>).</param>
    /// <param name="expectedMissing">Model keys that are new by design (a fresh head, adapters): reported, not an error.</param>
    /// <param name="strict">Also refuse keys of the checkpoint the model does not use.</param>
    /// <param name="allowMissing">Accept missing weights other than <paramref name="expectedMissing"/> (they stay randomly initialised; logged as a warning).</param>
    /// <param name="logger">Receives Hugging Face's messages about new and unused weights.</param>
    /// <exception cref="InvalidDataException">A weight is mis-shaped, or one the model needs is missing; the message lists the keys.</exception>
    public LoadReport LoadInto(nn.Module module, string basePrefix, IReadOnlyCollection<string> expectedMissing, bool strict, bool allowMissing, ILogger logger)
    {
        LoadReport report = StateDictLoader.Load(module, State, basePrefix, strict, logger, Directory);
        if (report.MismatchedShapes.Count > 0)
        {
            throw new InvalidDataException(
                $"'{Directory}' does not fit its own config.json: {string.Join("; ", report.MismatchedShapes)}. The config and the weights belong to different models.");
        }

        string[] unexpectedlyMissing = [.. report.MissingKeys.Where(k => !expectedMissing.Contains(k))];
        if (unexpectedlyMissing.Length > 0 && !allowMissing)
        {
            string shown = string.Join(", ", unexpectedlyMissing.Take(20)) + (unexpectedlyMissing.Length > 20 ? $", … ({unexpectedlyMissing.Length} in all)" : string.Empty);
            throw new InvalidDataException(
                $"'{Directory}' lacks weights the model needs, which would stay random: {shown}. " +
                "The checkpoint is incomplete or of another architecture. Set AllowMissingWeights to load it anyway.");
        }

        return report;
    }

    public void Dispose()
    {
        foreach (Tensor tensor in State.Values)
        {
            tensor.Dispose();
        }

        State.Clear();
    }
}
