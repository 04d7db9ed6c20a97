using static TorchSharp.torch;

namespace Bert.Sharp.Checkpoints;

/// <summary>What every <c>FromPretrained</c> does before building its model: resolve the argument, read the config, load the weights.</summary>
internal static class PretrainedCheckpoint
{
    /// <summary>
    /// Resolves <paramref name="directoryOrModelId"/> (a local directory is used as it is; anything else is a Hub id), reads
    /// its <c>config.json</c> (with <paramref name="attnImplementation"/> applied when given) and its weights onto the CPU.
    /// The caller owns (and disposes) the returned tensors.
    /// </summary>
    public static (string Directory, BertConfig Config, Dictionary<string, Tensor> State) Open(string directoryOrModelId, string? attnImplementation)
    {
        string directory = PretrainedResolver.ResolveDirectory(directoryOrModelId);
        string configFile = Path.Combine(directory, "config.json");
        if (!File.Exists(configFile))
        {
            throw new FileNotFoundException($"No config.json in model directory '{directory}': looked for '{configFile}'.", configFile);
        }

        BertConfig config = BertConfig.Load(configFile);
        if (attnImplementation is not null)
        {
            config = config with { AttnImplementation = attnImplementation };
        }

        TorchRuntime.EnsureLoaded();
        return (directory, config, CheckpointFiles.LoadStateDict(directory));
    }

    /// <summary>Whether the weights include a pooler, under either the base or the task-model prefix.</summary>
    public static bool HasPooler(IReadOnlyDictionary<string, Tensor> state) =>
        state.Keys.Any(k => k.StartsWith("pooler.", StringComparison.Ordinal) || k.StartsWith(BertModel.BasePrefix + ".pooler.", StringComparison.Ordinal));
}
