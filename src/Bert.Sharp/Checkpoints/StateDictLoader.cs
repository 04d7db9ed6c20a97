using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Checkpoints;

/// <summary>
/// Copies a checkpoint's tensors into a module's parameters and buffers by name, the way Hugging Face's
/// <c>from_pretrained</c> does: legacy LayerNorm names are mapped, the base-model prefix is added or stripped, and
/// missing, unexpected and mis-shaped keys are reported (or thrown when strict).
/// </summary>
internal static partial class StateDictLoader
{
    // Hugging Face ignores these checkpoint keys silently (old files kept position_ids as a persistent buffer).
    private static readonly string[] IgnoredUnexpectedSuffixes = ["embeddings.position_ids"];

    /// <summary>
    /// Loads <paramref name="stateDict"/> into <paramref name="module"/>. Nothing is copied when a strict load fails.
    /// </summary>
    /// <param name="module">The target; its parameters keep their device and dtype (values are copied into them).</param>
    /// <param name="stateDict">Checkpoint tensors by key.</param>
    /// <param name="basePrefix">The base model's attribute name in task models (<c>bert</c>), or <c>null</c>.</param>
    /// <param name="strict">Throw <see cref="InvalidDataException"/> on any missing, unexpected or mis-shaped key.</param>
    /// <param name="logger">Receives Hugging Face style warnings about missing and unexpected keys.</param>
    /// <param name="source">Names the checkpoint (a directory or file) in messages.</param>
    public static LoadReport Load(nn.Module module, IReadOnlyDictionary<string, Tensor> stateDict, string? basePrefix, bool strict, ILogger? logger, string source)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(stateDict);
        Dictionary<string, Tensor> target = module.state_dict();
        Dictionary<string, string> renamed = MapCheckpointKeys(stateDict.Keys, target.Keys, basePrefix);

        var missing = new List<string>();
        var mismatched = new List<string>();
        var copies = new List<(Tensor Target, Tensor Source)>();
        foreach ((string key, Tensor parameter) in target)
        {
            if (!renamed.TryGetValue(key, out string? checkpointKey))
            {
                missing.Add(key);
                continue;
            }

            Tensor value = stateDict[checkpointKey];
            if (!parameter.shape.SequenceEqual(value.shape))
            {
                mismatched.Add($"{key}: checkpoint {Shape(value.shape)} vs model {Shape(parameter.shape)}");
                continue;
            }

            copies.Add((parameter, value));
        }

        var used = new HashSet<string>(renamed.Values, StringComparer.Ordinal);
        List<string> unexpected = stateDict.Keys
            .Where(k => !used.Contains(k) && !IgnoredUnexpectedSuffixes.Any(s => k.EndsWith(s, StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal)
            .ToList();

        var report = new LoadReport(missing, unexpected, mismatched);
        string modelName = module.GetName();
        if (strict && !report.IsExactMatch)
        {
            throw new InvalidDataException(DescribeStrictFailure(report, modelName, source));
        }

        using (no_grad())
        {
            foreach ((Tensor parameter, Tensor value) in copies)
            {
                parameter.copy_(value);
            }
        }

        if (logger is not null)
        {
            if (unexpected.Count > 0)
            {
                LogUnexpected(logger, source, modelName, string.Join(", ", unexpected));
            }

            if (missing.Count > 0)
            {
                LogMissing(logger, modelName, source, string.Join(", ", missing));
            }

            if (mismatched.Count > 0)
            {
                LogMismatched(logger, modelName, source, string.Join("; ", mismatched));
            }
        }

        return report;
    }

    /// <summary>
    /// Maps each model key to the checkpoint key that fills it, after renaming legacy keys and reconciling the base-model
    /// prefix. Returns model key → checkpoint key.
    /// </summary>
    internal static Dictionary<string, string> MapCheckpointKeys(IEnumerable<string> checkpointKeys, IEnumerable<string> modelKeys, string? basePrefix)
    {
        string[] keys = checkpointKeys.ToArray();
        var model = new HashSet<string>(modelKeys, StringComparer.Ordinal);
        string? prefix = string.IsNullOrEmpty(basePrefix) ? null : basePrefix + ".";
        bool checkpointHasPrefix = prefix is not null && keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal));
        bool modelExpectsPrefix = prefix is not null && model.Any(k => k.StartsWith(prefix, StringComparison.Ordinal));

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string key in keys)
        {
            string name = RenameLegacy(key);
            if (prefix is not null && modelExpectsPrefix && !checkpointHasPrefix)
            {
                // A base checkpoint into a task model: the checkpoint's keys belong under the prefix.
                name = prefix + name;
            }
            else if (prefix is not null && checkpointHasPrefix && !modelExpectsPrefix)
            {
                // A task checkpoint into a base model: only the prefixed keys can match.
                if (!name.StartsWith(prefix, StringComparison.Ordinal))
                {
                    continue;
                }

                name = name[prefix.Length..];
            }

            if (model.Contains(name))
            {
                // A legacy and a current name for the same key: keep the current one.
                if (!result.TryAdd(name, key) && string.Equals(RenameLegacy(key), key, StringComparison.Ordinal))
                {
                    result[name] = key;
                }
            }
        }

        return result;
    }

    // TensorFlow-era checkpoints name LayerNorm parameters gamma and beta.
    internal static string RenameLegacy(string key)
    {
        if (key.EndsWith(".gamma", StringComparison.Ordinal))
        {
            return key[..^".gamma".Length] + ".weight";
        }

        if (key.EndsWith(".beta", StringComparison.Ordinal))
        {
            return key[..^".beta".Length] + ".bias";
        }

        return key;
    }

    private static string DescribeStrictFailure(LoadReport report, string modelName, string source)
    {
        var parts = new List<string>();
        if (report.MissingKeys.Count > 0)
        {
            parts.Add($"missing keys (in the model, not in the checkpoint): {string.Join(", ", report.MissingKeys)}");
        }

        if (report.UnexpectedKeys.Count > 0)
        {
            parts.Add($"unexpected keys (in the checkpoint, not in the model): {string.Join(", ", report.UnexpectedKeys)}");
        }

        if (report.MismatchedShapes.Count > 0)
        {
            parts.Add($"shape mismatches: {string.Join("; ", report.MismatchedShapes)}");
        }

        return $"Strict loading of {modelName} from '{source}' failed: {string.Join(". ", parts)}.";
    }

    private static string Shape(long[] shape) => "[" + string.Join(", ", shape) + "]";

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Some weights of the model checkpoint at {Source} were not used when initializing {Model}: [{Keys}]")]
    private static partial void LogUnexpected(ILogger logger, string source, string model, string keys);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Some weights of {Model} were not initialized from the model checkpoint at {Source} and are newly initialized: [{Keys}]. You should probably TRAIN this model on a down-stream task to be able to use it for predictions and inference.")]
    private static partial void LogMissing(ILogger logger, string model, string source, string keys);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Some weights of {Model} were not initialized from the model checkpoint at {Source} because their shapes did not match and are newly initialized: {Mismatches}")]
    private static partial void LogMismatched(ILogger logger, string model, string source, string mismatches);
}
