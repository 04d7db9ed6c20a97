using System.Text.Json;
using Bert.Sharp.Checkpoints;
using Bert.Sharp.IO;
using Bert.Sharp.Modeling;

namespace Bert.Sharp.Adapters;

/// <summary>
/// Opening a PEFT adapter folder as a whole model, as Transformers does with PEFT installed: read <c>adapter_config.json</c>,
/// load the base it names (<c>base_model_name_or_path</c>), then the adapter. Also the task facts Bert.Sharp records in the
/// weights file's metadata (labels, problem type, pooling), which PEFT ignores.
/// </summary>
/// <remarks>
/// An adapter folder is untrusted input. Its base must be a model: an adapter folder naming itself, another adapter
/// folder, or a cycle of them as base is refused before anything loads. The labels are bounded by the head the file
/// holds, whose shape is checked against the file's bytes before a label exists.
/// </remarks>
internal static class AdapterFolder
{
    public const string LabelsKey = "bert_sharp.labels";
    public const string ProblemTypeKey = "bert_sharp.problem_type";
    public const string PoolingKey = "bert_sharp.pooling";

    private const string BaseKey = "base_model_name_or_path";

    /// <summary>Whether <paramref name="directoryOrModelId"/> is a local adapter folder.</summary>
    public static bool Is(string directoryOrModelId) =>
        Directory.Exists(directoryOrModelId) && File.Exists(Path.Combine(directoryOrModelId, PeftAdapterConfig.FileName));

    /// <summary>
    /// The base model the folder's config names, as a folder when it is a relative path that exists beside the adapter, else as
    /// written (hub id). The base must be a model: a base that is itself an adapter folder (the folder itself, a cycle A → B → A,
    /// or any chain of adapters) is refused before anything loads. Loading it would recurse without end for a cycle, and for a
    /// chain would apply the outer adapter to a base without the inner one merged, computing something else than PEFT.
    /// </summary>
    /// <exception cref="InvalidDataException">The config names no base, or names an adapter folder; the message names the file and key.</exception>
    public static string BaseOf(string directory)
    {
        string name = NamedBase(directory);
        if (Is(name))
        {
            string file = Path.Combine(directory, PeftAdapterConfig.FileName);
            string full = Path.GetFullPath(name);
            bool self = string.Equals(full.TrimEnd(Path.DirectorySeparatorChar), Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar), PathComparison);
            throw new InvalidDataException(self
                ? $"'{file}': key '{BaseKey}' names the adapter's own folder ('{full}'); an adapter cannot be its own base. Name the base model it was trained on."
                : $"'{file}': key '{BaseKey}' names '{full}', which is an adapter folder itself (it holds {PeftAdapterConfig.FileName}); the base must be a model folder or Hub id. Chains of adapters (and cycles) are not loaded: merge the inner adapter into its base (Adapters.Merge, then SavePretrained) and name that folder.");
        }

        return name;
    }

    /// <summary>
    /// <see cref="BaseOf"/>, resolved to a local folder (fetched when it is a Hub id). A base that cannot be resolved is
    /// refused naming the adapter's config and key as well as the cause: a name that is neither a folder nor a model id is
    /// <see cref="InvalidDataException"/>; a missing folder stays <see cref="DirectoryNotFoundException"/>, a Hub failure
    /// <see cref="HubException"/> (same kind).
    /// </summary>
    public static string ResolveBase(string directory, PretrainedResolveOptions? hub)
    {
        string name = BaseOf(directory);
        try
        {
            return PretrainedResolver.ResolveDirectory(name, hub);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new DirectoryNotFoundException(BaseFailure(directory, name, e), e);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException(BaseFailure(directory, name, e), e);
        }
        catch (HubException e)
        {
            throw new HubException(e.Kind, BaseFailure(directory, name, e), e.RepoId, e.FileName, e.Url, e.StatusCode, e);
        }
    }

    /// <summary>Runs <paramref name="load"/> on the resolved base; a missing file of the base is refused naming the adapter's config and key too.</summary>
    public static T LoadBase<T>(string directory, string resolvedBase, Func<string, T> load)
    {
        try
        {
            return load(resolvedBase);
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException(BaseFailure(directory, resolvedBase, e), e.FileName, e);
        }
    }

    private static string BaseFailure(string directory, string name, Exception e) =>
        $"'{Path.Combine(directory, PeftAdapterConfig.FileName)}': key '{BaseKey}' names '{name}', which cannot be loaded as the adapter's base: {e.Message}";

    private static StringComparison PathComparison => OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    // The base one folder names, resolved as BaseOf documents, without following it.
    private static string NamedBase(string directory)
    {
        PeftAdapterConfig config = PeftAdapterConfig.Read(directory);
        string name = config.BaseModelNameOrPath is { Length: > 0 } b ? b : throw new InvalidDataException(
            $"'{Path.Combine(directory, PeftAdapterConfig.FileName)}': key '{BaseKey}' is empty; load the base model yourself and call Adapters.Load.");
        if (name.Contains('\0', StringComparison.Ordinal))
        {
            throw new InvalidDataException($"'{Path.Combine(directory, PeftAdapterConfig.FileName)}': key '{BaseKey}' holds a NUL character.");
        }

        string beside = Path.Combine(directory, name);
        return !Path.IsPathRooted(name) && !Directory.Exists(name) && Directory.Exists(beside) ? beside : name;
    }

    /// <summary>
    /// Where the tokenizer of <paramref name="directory"/> lives: the folder itself, or — for an adapter folder saved without
    /// tokenizer files (<c>Adapters.Save</c>, or Python's PEFT) — its base model, whose tokenizer the adapter was trained with.
    /// </summary>
    public static string TokenizerSource(string directory, PretrainedResolveOptions? hub = null)
    {
        return Is(directory) && !File.Exists(Path.Combine(directory, FolderFileNames.TokenizerJson)) && !File.Exists(Path.Combine(directory, FolderFileNames.Vocabulary))
            ? ResolveBase(directory, hub)
            : directory;
    }

    /// <summary>The metadata of the folder's weights file (empty when it has none or the file is missing).</summary>
    public static IReadOnlyDictionary<string, string> Metadata(string directory)
    {
        string path = Path.Combine(directory, PeftAdapterConfig.WeightsFileName);
        return File.Exists(path) ? SafeTensors.ReadMetadata(path) : new Dictionary<string, string>();
    }

    /// <summary>
    /// The labels recorded in the metadata, or LABEL_i for each row of the saved head, or <c>null</c> (no weights file, or
    /// neither labels nor head). The head must be a [labels, hidden] matrix with both sizes positive, so its rows are paid
    /// for by the file's bytes; recorded labels must be distinct, non-empty and as many as the head's rows.
    /// </summary>
    /// <exception cref="InvalidDataException">The metadata is not a list of labels, or does not fit the head; the message names the file and key.</exception>
    public static IReadOnlyList<string>? Labels(string directory, string headKey)
    {
        string path = Path.Combine(directory, PeftAdapterConfig.WeightsFileName);
        if (!File.Exists(path))
        {
            return null;
        }

        string headName = PeftAdapterConfig.KeyPrefix + headKey;
        (IReadOnlyList<SafeTensorsHeader.Entry> entries, IReadOnlyDictionary<string, string> metadata) = SafeTensors.ReadHeader(path);
        SafeTensorsHeader.Entry? head = entries.FirstOrDefault(e => e.Name == headName);
        int? rows = null;
        if (head is not null)
        {
            if (head.Shape.Length != 2 || head.Shape[0] <= 0 || head.Shape[1] <= 0 || head.Shape[0] > BertConfigLimits.MaxLabels)
            {
                throw new InvalidDataException(
                    $"'{path}': key '{headName}' has shape [{string.Join(", ", head.Shape)}]; a head is [labels, hidden] with both positive and at most {BertConfigLimits.MaxLabels} labels.");
            }

            rows = (int)head.Shape[0];
        }

        if (!metadata.TryGetValue(LabelsKey, out string? json))
        {
            return rows is int n ? [.. Enumerable.Range(0, n).Select(i => $"LABEL_{i}")] : null;
        }

        if (rows is null)
        {
            throw new InvalidDataException($"'{path}': metadata '{LabelsKey}' names labels but the file holds no head '{headName}' for them.");
        }

        string[]? labels;
        try
        {
            labels = JsonSerializer.Deserialize<string[]>(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}': metadata '{LabelsKey}' is not a JSON list of label strings: {e.Message}", e);
        }

        if (labels is null || labels.Length != rows)
        {
            throw new InvalidDataException(
                $"'{path}': metadata '{LabelsKey}' names {labels?.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no"} labels but the head '{headName}' has {rows} rows.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string label in labels)
        {
            if (string.IsNullOrEmpty(label) || !seen.Add(label))
            {
                throw new InvalidDataException($"'{path}': metadata '{LabelsKey}' holds {(string.IsNullOrEmpty(label) ? "an empty or null label" : $"'{label}' twice")}; labels must be distinct and non-empty.");
            }
        }

        return labels;
    }

    /// <summary>The problem type recorded in the metadata for <paramref name="labelCount"/> labels, or <c>null</c> when none is recorded.</summary>
    /// <exception cref="InvalidDataException">The recorded value is not a problem type, or does not fit the labels; the message names the file and key.</exception>
    public static ProblemType? ProblemTypeOf(string directory, IReadOnlyDictionary<string, string> metadata, int labelCount)
    {
        if (!metadata.TryGetValue(ProblemTypeKey, out string? value))
        {
            return null;
        }

        string path = Path.Combine(directory, PeftAdapterConfig.WeightsFileName);
        ProblemType type;
        try
        {
            type = ProblemTypes.FromConfigString(value, labelCount);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{path}': metadata '{ProblemTypeKey}': {e.Message}", e);
        }

        if (type == ProblemType.SingleLabelClassification && labelCount < 2)
        {
            throw new InvalidDataException($"'{path}': metadata '{ProblemTypeKey}' is {value} but the head has {labelCount} row; single-label classification needs at least two labels.");
        }

        return type;
    }

    /// <summary>Saves the model's active adapter (and the tokenizer) as the folder's content: what <c>SavePretrained</c> does for a model with adapters.</summary>
    public static void Save(ModelAdapters adapters, string directory, BertTokenizer? tokenizer)
    {
        var writer = new ModelFolderWriter(directory);
        adapters.AddFiles(writer, directory, null);
        tokenizer?.AddFilesTo(writer);
        writer.Commit();
    }
}
