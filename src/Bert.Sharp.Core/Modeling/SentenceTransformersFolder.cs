using System.Text.Json;
using System.Text.Json.Nodes;
using Bert.Sharp.IO;

namespace Bert.Sharp.Modeling;

/// <summary>
/// The sentence-transformers files of a model folder: <c>modules.json</c> (the pipeline: Transformer, Pooling, Normalize),
/// <c>1_Pooling/config.json</c> (which pooling) and <c>sentence_bert_config.json</c> (the longest input). A folder with them
/// is a sentence embedder as Python's <c>SentenceTransformer(folder)</c> loads it.
/// </summary>
/// <param name="Pooling">How token states become one vector.</param>
/// <param name="Normalize">Whether the vector is scaled to unit length (a Normalize module).</param>
/// <param name="MaxSequenceLength">The longest input in tokens, or <c>null</c> when the folder does not say.</param>
internal sealed record SentenceTransformersFolder(PoolingStrategy Pooling, bool Normalize, int? MaxSequenceLength)
{
    private const string ModulesFile = FolderFileNames.SentenceTransformersModules;
    private const string PoolingFolder = "1_Pooling";
    private const string NormalizeFolder = "2_Normalize";
    private const long MaxFileBytes = 1 << 20;
    private static readonly string[] UnsupportedModes = ["pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"];

    /// <summary>Reads the files of <paramref name="directory"/>; <c>null</c> when it has no <c>modules.json</c>.</summary>
    /// <exception cref="InvalidDataException">A file is malformed or names a pooling Bert.Sharp does not implement; the message names it.</exception>
    public static SentenceTransformersFolder? Read(string directory)
    {
        string modulesPath = Path.Combine(directory, ModulesFile);
        if (!File.Exists(modulesPath))
        {
            return null;
        }

        JsonNode? modules = Parse(modulesPath);
        if (modules is not JsonArray array)
        {
            throw new InvalidDataException($"'{modulesPath}' is not a JSON array of modules.");
        }

        string? poolingPath = null;
        bool normalize = false;
        foreach (JsonNode? module in array)
        {
            string type = module?["type"]?.GetValue<string>() ?? string.Empty;
            string path = module?["path"]?.GetValue<string>() ?? string.Empty;
            if (type.EndsWith(".Pooling", StringComparison.Ordinal))
            {
                poolingPath = path;
            }
            else if (type.EndsWith(".Normalize", StringComparison.Ordinal))
            {
                normalize = true;
            }
            else if (!type.EndsWith(".Transformer", StringComparison.Ordinal))
            {
                throw new InvalidDataException($"'{modulesPath}' has a module of type '{type}', which Bert.Sharp does not implement (it reads Transformer, Pooling and Normalize).");
            }
        }

        PoolingStrategy pooling = poolingPath is null ? PoolingStrategy.Cls : ReadPooling(Path.Combine(directory, poolingPath, FolderFileNames.Config));
        int? maxLength = null;
        string bertConfig = Path.Combine(directory, "sentence_bert_config.json");
        if (File.Exists(bertConfig) && Parse(bertConfig)?["max_seq_length"] is JsonValue value && value.TryGetValue(out int length))
        {
            maxLength = length;
        }

        return new SentenceTransformersFolder(pooling, normalize, maxLength);
    }

    /// <summary>Adds the sentence-transformers files describing this pipeline to a save.</summary>
    public void AddTo(ModelFolderWriter writer, int hiddenSize)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var modules = new JsonArray
        {
            new JsonObject { ["idx"] = 0, ["name"] = "0", ["path"] = string.Empty, ["type"] = "sentence_transformers.models.Transformer" },
            new JsonObject { ["idx"] = 1, ["name"] = "1", ["path"] = PoolingFolder, ["type"] = "sentence_transformers.models.Pooling" },
        };
        if (Normalize)
        {
            modules.Add(new JsonObject { ["idx"] = 2, ["name"] = "2", ["path"] = NormalizeFolder, ["type"] = "sentence_transformers.models.Normalize" });
        }

        var indented = new JsonSerializerOptions { WriteIndented = true };
        writer.AddText(ModulesFile, modules.ToJsonString(indented));
        writer.AddText($"{PoolingFolder}/config.json", new JsonObject
        {
            ["word_embedding_dimension"] = hiddenSize,
            ["pooling_mode_cls_token"] = Pooling == PoolingStrategy.Cls,
            ["pooling_mode_mean_tokens"] = Pooling == PoolingStrategy.Mean,
            ["pooling_mode_max_tokens"] = Pooling == PoolingStrategy.Max,
            ["pooling_mode_mean_sqrt_len_tokens"] = false,
            ["pooling_mode_weightedmean_tokens"] = false,
            ["pooling_mode_lasttoken"] = false,
            ["include_prompt"] = true,
        }.ToJsonString(indented));
        writer.AddText("sentence_bert_config.json", new JsonObject
        {
            ["max_seq_length"] = MaxSequenceLength ?? 512,
            ["do_lower_case"] = false,
        }.ToJsonString(indented));
    }

    private static PoolingStrategy ReadPooling(string path)
    {
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"modules.json names a Pooling module but '{path}' does not exist.");
        }

        JsonNode? config = Parse(path);
        bool Flag(string key) => config?[key] is JsonValue v && v.TryGetValue(out bool b) && b;
        var modes = new List<PoolingStrategy>();
        if (Flag("pooling_mode_cls_token"))
        {
            modes.Add(PoolingStrategy.Cls);
        }

        if (Flag("pooling_mode_mean_tokens"))
        {
            modes.Add(PoolingStrategy.Mean);
        }

        if (Flag("pooling_mode_max_tokens"))
        {
            modes.Add(PoolingStrategy.Max);
        }

        string[] unsupported = [.. UnsupportedModes.Where(Flag)];
        if (unsupported.Length > 0 || modes.Count != 1)
        {
            throw new InvalidDataException(
                $"'{path}' asks for pooling {(modes.Count == 0 && unsupported.Length == 0 ? "(none)" : string.Join(" + ", modes.Select(m => m.ToString()).Concat(unsupported)))}; Bert.Sharp implements exactly one of cls, mean or max.");
        }

        return modes[0];
    }

    private static JsonNode? Parse(string path)
    {
        if (new FileInfo(path).Length > MaxFileBytes)
        {
            throw new InvalidDataException($"'{path}' is larger than {MaxFileBytes} bytes; it is not a sentence-transformers settings file.");
        }

        try
        {
            return JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e);
        }
    }
}
