using Bert.Sharp.IO;
using Bert.Sharp.Modeling;
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
        Config.Family.HasPooler && State.Keys.Any(k => k.StartsWith("pooler.", StringComparison.Ordinal) || k.StartsWith(BasePrefix + ".pooler.", StringComparison.Ordinal));

    /// <summary>The base model's attribute name in task models of the config's family (<c>bert</c>, <c>roberta</c>, <c>distilbert</c>).</summary>
    public string BasePrefix => Config.Family.BasePrefix;

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
        if (Runtime.MklCpuDispatch.IsTooLate)
        {
            CheckpointLog.MklGenericKernels(logger, Runtime.MklCpuDispatch.Status);
        }

        CheckpointLog.Loading(logger, directory);
        return new PretrainedCheckpoint(directory, config, CheckpointFiles.LoadStateDict(directory));
    }

    /// <summary>Random weights a checkpoint loaded with missing weights allowed may add beyond twice its own bytes.</summary>
    internal const long MissingWeightsAllowance = 256L << 20;

    /// <summary>
    /// Compares every tensor of the checkpoint that the config's encoder has with the shape the config gives it, and the
    /// encoder's keys with those present, before the model is built: a config that does not fit its weights
    /// (<c>intermediate_size</c> 200,000, <c>num_hidden_layers</c> 500 beside the weights of 12) is refused at the cost of
    /// reading it, not of allocating the model it describes. With <paramref name="allowMissing"/>, the random weights the
    /// model would add are bounded: the model may hold at most twice the checkpoint's bytes plus <see cref="MissingWeightsAllowance"/>.
    /// </summary>
    /// <param name="modelPrefix">The task model's prefix of encoder keys (<c>bert</c>), or <c>null</c> for a <see cref="BertModel"/>: keys in messages are the model's.</param>
    /// <param name="allowMissing">Whether encoder weights may be missing (they stay random).</param>
    /// <exception cref="InvalidDataException">A tensor's shape differs from the config's, or encoder weights are missing (and not allowed), or the model would be far larger than its weights; the message names the keys.</exception>
    public void RequireFitsConfig(string? modelPrefix, bool allowMissing)
    {
        Dictionary<string, long[]> expected = ConfigShapes.Of(Config);
        string prefix = BasePrefix + ".";
        string shown = modelPrefix is null ? string.Empty : modelPrefix + ".";
        var present = new HashSet<string>(StringComparer.Ordinal);
        var mismatched = new List<string>();
        long checkpointBytes = 0;
        foreach ((string key, Tensor tensor) in State)
        {
            checkpointBytes += tensor.numel() * tensor.element_size();
            string name = StateDictLoader.RenameLegacy(key);
            name = name.StartsWith(prefix, StringComparison.Ordinal) ? name[prefix.Length..] : name;
            if (expected.TryGetValue(name, out long[]? shape))
            {
                present.Add(name);
                if (!tensor.shape.SequenceEqual(shape))
                {
                    mismatched.Add($"{shown}{name}: checkpoint [{string.Join(", ", tensor.shape)}] vs model [{string.Join(", ", shape)}]");
                }
            }
        }

        if (mismatched.Count > 0)
        {
            string list = string.Join("; ", mismatched.Take(10)) + (mismatched.Count > 10 ? $"; … ({mismatched.Count} in all)" : string.Empty);
            throw new InvalidDataException(
                $"'{Directory}' does not fit its own config.json: {list}. The config and the weights belong to different models (nothing was built).");
        }

        string[] missing = [.. expected.Keys.Where(k => !present.Contains(k) && !k.StartsWith(ConfigShapes.PoolerPrefix, StringComparison.Ordinal))];
        if (missing.Length > 0 && !allowMissing)
        {
            string list = string.Join(", ", missing.Take(20).Select(k => shown + k)) + (missing.Length > 20 ? $", … ({missing.Length} in all)" : string.Empty);
            throw new InvalidDataException(
                $"'{Directory}' lacks weights the model needs, which would stay random: {list}. " +
                "The checkpoint is incomplete, of another architecture, or its config.json (num_hidden_layers, ...) describes a larger model. Set AllowMissingWeights to load it anyway.");
        }

        long modelBytes = expected.Values.Sum(shape => shape.Aggregate(1L, (a, b) => a * b)) * sizeof(float);
        if (modelBytes > (2 * checkpointBytes) + MissingWeightsAllowance)
        {
            throw new InvalidDataException(
                $"'{Directory}': config.json describes a model of {modelBytes} bytes but the weights hold {checkpointBytes}; more than twice the weights plus {MissingWeightsAllowance >> 20} MiB would stay random. The config does not belong to these weights.");
        }
    }

    /// <summary>
    /// The rows (labels) of the task head <paramref name="weightKey"/>, or 0 when the checkpoint has none. The head must be a
    /// [labels, hidden_size] matrix, so its rows are paid for by the file's bytes before any label is made from them.
    /// </summary>
    /// <exception cref="InvalidDataException">The head has another shape; the message names the key.</exception>
    public int HeadRows(string weightKey)
    {
        if (!State.TryGetValue(weightKey, out Tensor? head))
        {
            return 0;
        }

        long[] shape = head.shape;
        if (shape.Length != 2 || shape[0] <= 0 || shape[0] > BertConfigLimits.MaxLabels || shape[1] != Config.HiddenSize)
        {
            throw new InvalidDataException(
                $"'{Directory}': the weights' '{weightKey}' has shape [{string.Join(", ", shape)}]; a head is [labels, hidden_size {Config.HiddenSize}] with 1 to {BertConfigLimits.MaxLabels} labels.");
        }

        return (int)shape[0];
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
