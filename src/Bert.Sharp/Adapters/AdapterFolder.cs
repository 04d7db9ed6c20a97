using System.Text.Json;
using Bert.Sharp.Checkpoints;
using Bert.Sharp.IO;

namespace Bert.Sharp.Adapters;

/// <summary>
/// Opening a PEFT adapter folder as a whole model, as Transformers does with PEFT installed: read <c>adapter_config.json</c>,
/// load the base it names (<c>base_model_name_or_path</c>), then the adapter. Also the task facts Bert.Sharp records in the
/// weights file's metadata (labels, problem type, pooling), which PEFT ignores.
/// </summary>
internal static class AdapterFolder
{
    public const string LabelsKey = "bert_sharp.labels";
    public const string ProblemTypeKey = "bert_sharp.problem_type";
    public const string PoolingKey = "bert_sharp.pooling";

    /// <summary>Whether <paramref name="directoryOrModelId"/> is a local adapter folder.</summary>
    public static bool Is(string directoryOrModelId) =>
        Directory.Exists(directoryOrModelId) && File.Exists(Path.Combine(directoryOrModelId, PeftAdapterConfig.FileName));

    /// <summary>The base model the folder's config names, as a folder when it is a relative path that exists beside the adapter, else as written (hub id).</summary>
    /// <exception cref="InvalidDataException">The config names no base.</exception>
    public static string BaseOf(string directory)
    {
        PeftAdapterConfig config = PeftAdapterConfig.Read(directory);
        string name = config.BaseModelNameOrPath is { Length: > 0 } b ? b : throw new InvalidDataException(
            $"'{Path.Combine(directory, PeftAdapterConfig.FileName)}': key 'base_model_name_or_path' is empty; load the base model yourself and call LoadAdapter.");
        string beside = Path.Combine(directory, name);
        return !Path.IsPathRooted(name) && !Directory.Exists(name) && Directory.Exists(beside) ? beside : name;
    }

    /// <summary>
    /// Where the tokenizer of <paramref name="directory"/> lives: the folder itself, or — for an adapter folder saved without
    /// tokenizer files (<c>SaveAdapter</c>, or Python's PEFT) — its base model, whose tokenizer the adapter was trained with.
    /// </summary>
    public static string TokenizerSource(string directory) =>
        Is(directory) && !File.Exists(Path.Combine(directory, "tokenizer.json")) && !File.Exists(Path.Combine(directory, "vocab.txt"))
            ? BaseOf(directory)
            : directory;

    /// <summary>The metadata of the folder's weights file (empty when it has none or the file is missing).</summary>
    public static IReadOnlyDictionary<string, string> Metadata(string directory)
    {
        string path = Path.Combine(directory, PeftAdapterConfig.WeightsFileName);
        return File.Exists(path) ? SafeTensors.ReadMetadata(path) : new Dictionary<string, string>();
    }

    /// <summary>The labels recorded in the metadata, or LABEL_i for each row of the saved head, or <c>null</c>.</summary>
    public static IReadOnlyList<string>? Labels(string directory, string headKey)
    {
        if (Metadata(directory).TryGetValue(LabelsKey, out string? json))
        {
            return JsonSerializer.Deserialize<string[]>(json) ?? throw new InvalidDataException($"'{directory}': metadata '{LabelsKey}' is not a list of labels.");
        }

        string path = Path.Combine(directory, PeftAdapterConfig.WeightsFileName);
        if (!File.Exists(path))
        {
            return null;
        }

        SafeTensorsHeader.Entry? head = SafeTensors.ReadEntries(path).FirstOrDefault(e => e.Name == PeftAdapterConfig.KeyPrefix + headKey);
        return head is null ? null : [.. Enumerable.Range(0, (int)head.Shape[0]).Select(i => $"LABEL_{i}")];
    }

    /// <summary>Saves the model's active adapter (and the tokenizer) as the folder's content: what <c>SavePretrained</c> does for a model with adapters.</summary>
    public static void Save(BertTaskModel model, string directory, BertTokenizer? tokenizer)
    {
        var writer = new ModelFolderWriter(directory);
        model.AddAdapterFiles(writer, directory, null);
        tokenizer?.AddFilesTo(writer);
        writer.Commit();
    }
}
