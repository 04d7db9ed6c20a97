using System.Text.Json;

namespace Bert.Sharp.Onnx;

/// <summary>
/// Reads a sentence-transformers folder's <c>modules.json</c>: a Transformer, then a Pooling module (its
/// <c>config.json</c> says mean, CLS or max), then optionally Normalize. Other modules (Dense, ...) are not exported.
/// </summary>
internal static class SentenceTransformerModules
{
    public static (OnnxPooling Pooling, bool Normalize) Read(string directory)
    {
        string modulesPath = Path.Combine(directory, "modules.json");
        using JsonDocument modules = OnnxExportSource.ParseJson(modulesPath);
        if (modules.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"'{modulesPath}' is not a JSON array of modules.");
        }

        OnnxPooling? pooling = null;
        bool normalize = false;
        foreach (JsonElement module in modules.RootElement.EnumerateArray())
        {
            string type = module.TryGetProperty("type", out JsonElement t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : string.Empty;
            string path = module.TryGetProperty("path", out JsonElement p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : string.Empty;
            string kind = type[(type.LastIndexOf('.') + 1)..];
            switch (kind)
            {
                case "Transformer":
                    break;
                case "Pooling":
                    pooling = ReadPooling(directory, path);
                    break;
                case "Normalize":
                    normalize = true;
                    break;
                default:
                    throw new NotSupportedException($"'{modulesPath}': module '{type}' is not supported by the ONNX exporter (Transformer, Pooling and Normalize are).");
            }
        }

        return (pooling ?? throw new InvalidDataException($"'{modulesPath}' has no sentence_transformers Pooling module."), normalize);
    }

    private static OnnxPooling ReadPooling(string directory, string path)
    {
        string full = Path.GetFullPath(Path.Combine(directory, path, "config.json"));
        if (!full.StartsWith(Path.GetFullPath(directory), StringComparison.Ordinal))
        {
            throw new InvalidDataException($"'{Path.Combine(directory, "modules.json")}': module path '{path}' is outside the model folder.");
        }

        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"The Pooling module's config '{full}' does not exist.", full);
        }

        using JsonDocument config = OnnxExportSource.ParseJson(full);
        var modes = new List<OnnxPooling>();
        foreach (JsonProperty property in config.RootElement.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.True)
            {
                continue;
            }

            switch (property.Name)
            {
                case "pooling_mode_mean_tokens":
                    modes.Add(OnnxPooling.Mean);
                    break;
                case "pooling_mode_cls_token":
                    modes.Add(OnnxPooling.Cls);
                    break;
                case "pooling_mode_max_tokens":
                    modes.Add(OnnxPooling.Max);
                    break;
                case string name when name.StartsWith("pooling_mode_", StringComparison.Ordinal) || name == "include_prompt":
                    if (name != "include_prompt")
                    {
                        throw new NotSupportedException($"'{full}': {name} is not supported by the ONNX exporter (mean, CLS or max pooling are).");
                    }

                    break;
            }
        }

        return modes.Count == 1
            ? modes[0]
            : throw new NotSupportedException($"'{full}' selects {modes.Count} pooling modes; the ONNX exporter writes exactly one (mean, CLS or max).");
    }
}
