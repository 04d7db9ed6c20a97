using System.Globalization;
using System.Text.Json;
using Bert.Sharp.IO;

namespace Bert.Sharp.Serving;

/// <summary>
/// What a serving folder says about its model: <c>config.json</c> (limits, labels, problem type) and the exporter's
/// <c>metadata_props</c>, which win when both are present. The metadata keys mirror Bert.Sharp's <c>OnnxMetadataKeys</c>.
/// </summary>
internal static class OnnxModelFolder
{
    public const string Id2LabelKey = "id2label", ProblemTypeKey = "problem_type", MaxPositionsKey = "max_position_embeddings";

    /// <summary>
    /// The ONNX file to open: <paramref name="fileName"/> in <paramref name="directory"/>; for the default <c>model.onnx</c>,
    /// Optimum's and transformers.js' <c>onnx/model.onnx</c> when the folder has no <c>model.onnx</c> of its own.
    /// </summary>
    public static string ModelPath(string directory, string fileName)
    {
        string path = Path.Combine(directory, fileName);
        if (fileName == OnnxClassifierOptions.DefaultModelFileName && !File.Exists(path))
        {
            string optimumLayout = Path.Combine(directory, "onnx", OnnxClassifierOptions.DefaultModelFileName);
            if (File.Exists(optimumLayout))
            {
                return optimumLayout;
            }
        }

        return path;
    }

    /// <summary>Resolves a local folder or a Hub id, and checks the tokenizer is there.</summary>
    public static string Resolve(string directoryOrModelId)
    {
        ArgumentException.ThrowIfNullOrEmpty(directoryOrModelId);
        return Directory.Exists(directoryOrModelId) ? directoryOrModelId : PretrainedResolver.ResolveDirectory(directoryOrModelId);
    }

    /// <summary>The labels in class-index order: metadata, then config.json's id2label, then LABEL_i for <paramref name="count"/> classes.</summary>
    public static IReadOnlyList<string> Labels(string directory, IReadOnlyDictionary<string, string> metadata, int count, string onnxPath)
    {
        Dictionary<int, string>? map = null;
        if (metadata.TryGetValue(Id2LabelKey, out string? json))
        {
            map = JsonSerializer.Deserialize<Dictionary<string, string>>(json)?.ToDictionary(kv => int.Parse(kv.Key, CultureInfo.InvariantCulture), kv => kv.Value);
        }
        else if (File.Exists(Path.Combine(directory, FolderFileNames.Config)))
        {
            map = BertConfig.Load(directory).Id2Label?.ToDictionary(kv => kv.Key, kv => kv.Value);
        }

        if (map is null || map.Count == 0)
        {
            return [.. Enumerable.Range(0, count).Select(i => $"LABEL_{i}")];
        }

        if (count > 0 && (map.Count != count || Enumerable.Range(0, count).Any(i => !map.ContainsKey(i))))
        {
            throw new InvalidDataException($"'{onnxPath}' has {count} outputs per text but its id2label names {map.Count} labels.");
        }

        return [.. Enumerable.Range(0, map.Count).Select(i => map[i])];
    }

    /// <summary>The problem type: metadata, then config.json, then Hugging Face's default for the label count.</summary>
    public static ProblemType ProblemType(string directory, IReadOnlyDictionary<string, string> metadata, int labels)
    {
        string? value = metadata.GetValueOrDefault(ProblemTypeKey);
        if (value is null && File.Exists(Path.Combine(directory, FolderFileNames.Config)))
        {
            value = BertConfig.Load(directory).ProblemType;
        }

        return ProblemTypes.FromConfigString(value, labels);
    }

    /// <summary>Longest input: the smallest of the option, the model's position embeddings and the tokenizer's maximum.</summary>
    public static int MaxLength(IReadOnlyDictionary<string, string> metadata, int tokenizerMaxLength, OnnxClassifierOptions options)
    {
        int model = metadata.TryGetValue(MaxPositionsKey, out string? text) && int.TryParse(text, CultureInfo.InvariantCulture, out int positions) ? positions : int.MaxValue;
        return Math.Min(options.MaxSequenceLength ?? int.MaxValue, Math.Min(model, tokenizerMaxLength));
    }
}
