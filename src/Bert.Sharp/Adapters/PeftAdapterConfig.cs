using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Bert.Sharp.IO;

namespace Bert.Sharp.Adapters;

/// <summary>
/// PEFT's <c>adapter_config.json</c> for LoRA (<c>LoraConfig.save_pretrained</c>): the keys PEFT needs to rebuild the adapter
/// (<c>peft_type</c>, <c>task_type</c>, <c>r</c>, <c>lora_alpha</c>, <c>lora_dropout</c>, <c>target_modules</c>,
/// <c>modules_to_save</c>, <c>base_model_name_or_path</c>, ...). Reading refuses, naming the file and key, what this library
/// cannot apply (DoRA, trained biases, per-layer ranks) rather than computing something else.
/// </summary>
/// <remarks>
/// The file is untrusted input: it is read only up to <see cref="MaxFileBytes"/>, a key given twice is refused, the LoRA
/// values pass <see cref="LoraOptions.Validate"/>, and a <c>target_modules</c> regular expression is compiled when read and
/// matched with a <see cref="RegexTimeout"/>; every refusal is an <see cref="InvalidDataException"/> naming the file and key.
/// </remarks>
internal sealed record PeftAdapterConfig(
    string TaskType,
    int Rank,
    double Alpha,
    double Dropout,
    bool UseRsLora,
    JsonNode TargetModules,
    IReadOnlyList<string> ModulesToSave,
    string? BaseModelNameOrPath)
{
    public const string FileName = IO.FolderFileNames.AdapterConfig;
    public const string WeightsFileName = IO.FolderFileNames.AdapterWeights;

    /// <summary>Largest <c>adapter_config.json</c> read (PEFT writes about one kilobyte).</summary>
    public const long MaxFileBytes = 1 << 20;

    /// <summary>How long matching a <c>target_modules</c> regular expression against one module name may take.</summary>
    public static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(250);

    /// <summary>The file read (for messages); empty for a config made in code.</summary>
    public string Source { get; init; } = string.Empty;

    /// <summary>The compiled <c>target_modules</c> pattern, when it is a string.</summary>
    private Regex? TargetPattern { get; init; }

    /// <summary>The prefix of every key in <c>adapter_model.safetensors</c>: PEFT's <c>PeftModel.base_model</c> (LoraModel) → <c>.model</c> (the Transformers model).</summary>
    public const string KeyPrefix = "base_model.model.";

    private static readonly Dictionary<LoraTargets, string> Suffixes = LoraSuffixes(EncoderLayerNames.BertLayer);

    // DistilBERT's names of the same layers (PEFT's usual targets for it are q_lin and v_lin).
    private static readonly Dictionary<LoraTargets, string> DistilBertSuffixes = LoraSuffixes(EncoderLayerNames.DistilBertLayer);

    // ModernBERT's dense layers and PEFT's target_modules entry for each. Its query, key and value are one packed projection
    // (attn.Wqkv), so targeting any of the three targets that layer whole, as PEFT's ["Wqkv"] does; "Wo" alone would match both
    // output projections, so those two are named with their module.
    private static readonly (string Local, LoraTargets Kind, string Target)[] ModernBertLayers =
    [
        ("attn.Wqkv", LoraTargets.Query | LoraTargets.Key | LoraTargets.Value, "Wqkv"),
        ("attn.Wo", LoraTargets.AttentionOutput, "attn.Wo"),
        ("mlp.Wi", LoraTargets.Intermediate, "Wi"),
        ("mlp.Wo", LoraTargets.Output, "mlp.Wo"),
    ];

    public LoraOptions ToOptions(LoraTargets targets, IReadOnlyList<string> extraModules) => new()
    {
        Rank = Rank,
        Alpha = Alpha,
        Dropout = Dropout,
        UseRsLora = UseRsLora,
        Targets = targets,
        ModulesToSave = extraModules,
    };

    /// <summary>Whether PEFT's rule picks module <paramref name="moduleName"/> (its Transformers path, <c>bert.encoder.layer.0.attention.self.query</c>).</summary>
    /// <remarks>
    /// PEFT (<c>check_target_module_exists</c>): a string is a regular expression that must match the whole name; a list
    /// matches a name equal to an entry or ending in <c>.</c> + entry.
    /// </remarks>
    public bool Targets(string moduleName)
    {
        if (TargetModules is JsonValue value && value.TryGetValue(out string? pattern))
        {
            Regex regex = TargetPattern ?? Compile(pattern, Source);
            try
            {
                return regex.IsMatch(moduleName);
            }
            catch (RegexMatchTimeoutException e)
            {
                throw new InvalidDataException($"'{Source}': key 'target_modules' ({Quote(pattern)}) took longer than {RegexTimeout.TotalMilliseconds} ms to match the module name '{moduleName}' (catastrophic backtracking); simplify the regular expression.", e);
            }
        }

        return TargetModules.AsArray().Select(n => n!.GetValue<string>()).Any(t => moduleName == t || moduleName.EndsWith("." + t, StringComparison.Ordinal));
    }

    /// <summary>
    /// The kind of encoder-layer dense layer <paramref name="localName"/> is (<c>attention.self.query</c> → Query; DistilBERT's
    /// <c>attention.q_lin</c> → Query; ModernBERT's packed <c>attn.Wqkv</c> → Query | Key | Value). A layer is targeted when
    /// the options name any of its kinds.
    /// </summary>
    public static LoraTargets KindOf(string localName) =>
        Suffixes.FirstOrDefault(kv => kv.Value == localName).Key
        | DistilBertSuffixes.FirstOrDefault(kv => kv.Value == localName).Key
        | ModernBertLayers.FirstOrDefault(l => l.Local == localName).Kind;

    /// <summary>
    /// PEFT's <c>target_modules</c> for <paramref name="targets"/> in a layer of <paramref name="layout"/>: a list of name suffixes where suffixes say it exactly, otherwise
    /// (the feed-forward output without the attention output, whose name ends the same way) a regular expression.
    /// </summary>
    public static JsonNode TargetModulesFor(LoraTargets targets, EncoderLayerLayout layout = EncoderLayerLayout.Bert)
    {
        if (layout == EncoderLayerLayout.DistilBert)
        {
            // DistilBERT's layer names end differently (q_lin, out_lin, lin1, lin2): the last segment says each exactly.
            var distil = new JsonArray();
            foreach ((LoraTargets kind, string suffix) in DistilBertSuffixes.Where(kv => targets.HasFlag(kv.Key)))
            {
                distil.Add(suffix[(suffix.LastIndexOf('.') + 1)..]);
            }

            return distil;
        }

        if (layout == EncoderLayerLayout.ModernBert)
        {
            return new JsonArray([.. ModernBertLayers.Where(l => (targets & l.Kind) != LoraTargets.None).Select(l => (JsonNode)l.Target)]);
        }

        bool output = targets.HasFlag(LoraTargets.Output);
        bool attentionOutput = targets.HasFlag(LoraTargets.AttentionOutput);
        if (output && !attentionOutput)
        {
            string alternatives = string.Join("|", Suffixes.Where(kv => targets.HasFlag(kv.Key)).Select(kv => Regex.Escape(kv.Value)));
            return JsonValue.Create($@"(.*\.)?encoder\.layer\.\d+\.({alternatives})")!;
        }

        var names = new JsonArray();
        foreach ((LoraTargets kind, string suffix) in Suffixes)
        {
            if (targets.HasFlag(kind) && !(kind == LoraTargets.AttentionOutput && output))
            {
                names.Add(kind is LoraTargets.Query or LoraTargets.Key or LoraTargets.Value ? suffix[(suffix.LastIndexOf('.') + 1)..] : suffix);
            }
        }

        return names;
    }

    public string ToJson()
    {
        var json = new JsonObject
        {
            ["alpha_pattern"] = new JsonObject(),
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = BaseModelNameOrPath,
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["inference_mode"] = true,
            ["init_lora_weights"] = true,
            ["layers_pattern"] = null,
            ["layers_to_transform"] = null,
            ["lora_alpha"] = Alpha,
            ["lora_dropout"] = Dropout,
            ["modules_to_save"] = new JsonArray([.. ModulesToSave.Select(m => (JsonNode?)JsonValue.Create(m))]),
            ["peft_type"] = "LORA",
            ["r"] = Rank,
            ["rank_pattern"] = new JsonObject(),
            ["revision"] = null,
            ["target_modules"] = TargetModules.DeepClone(),
            ["task_type"] = TaskType,
            ["use_dora"] = false,
            ["use_rslora"] = UseRsLora,
        };
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Reads <c>adapter_config.json</c> of <paramref name="directory"/>.</summary>
    /// <exception cref="FileNotFoundException">The folder has no <c>adapter_config.json</c>.</exception>
    /// <exception cref="InvalidDataException">The file is malformed, not LoRA, holds a value <see cref="LoraOptions.Validate"/> refuses, or uses a feature this library does not apply; the message names the file and key.</exception>
    public static PeftAdapterConfig Read(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"'{directory}' holds no {FileName}; it is not a PEFT adapter folder.", path);
        }

        JsonObject json = ParseObject(path);

        string peftType = String(json, "peft_type", path) ?? throw Missing(path, "peft_type");
        if (!string.Equals(peftType, "LORA", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"'{path}': key 'peft_type' is '{peftType}'; only LoRA adapters (\"LORA\") can be loaded.");
        }

        int rank = json["r"] switch
        {
            null => throw Missing(path, "r"),
            JsonValue r when r.TryGetValue(out int rv) => rv,
            JsonValue r when r.TryGetValue(out double rd) && rd == Math.Floor(rd) && rd is >= int.MinValue and <= int.MaxValue => (int)rd,
            var other => throw new InvalidDataException($"'{path}': key 'r' is {other.ToJsonString()}; the rank must be a positive integer."),
        };
        if (rank <= 0)
        {
            throw new InvalidDataException($"'{path}': key 'r' is {rank}; the rank must be positive.");
        }

        double alpha = Number(json, "lora_alpha", path) ?? rank; // PEFT's default lora_alpha is 8; r is safer than guessing
        double dropout = Number(json, "lora_dropout", path) ?? 0.0;
        bool rsLora = json["use_rslora"] is JsonValue rs && rs.TryGetValue(out bool rsv) && rsv;
        ValidateLora(rank, alpha, dropout, rsLora, path);
        Refuse(json, path, "use_dora", n => n is JsonValue v && v.TryGetValue(out bool b) && b, "DoRA adapters are not supported");
        Refuse(json, path, "bias", n => n is JsonValue v && v.TryGetValue(out string? s) && s != "none", "trained biases are not supported (only \"none\")");
        Refuse(json, path, "rank_pattern", n => n is JsonObject o && o.Count > 0, "per-module ranks are not supported");
        Refuse(json, path, "alpha_pattern", n => n is JsonObject o && o.Count > 0, "per-module alphas are not supported");
        Refuse(json, path, "layers_to_transform", n => n is not null, "restricting LoRA to some layers is not supported");
        Refuse(json, path, "fan_in_fan_out", n => n is JsonValue v && v.TryGetValue(out bool b) && b, "fan_in_fan_out weights (GPT-2 Conv1D) do not apply to BERT");
        JsonNode targets = json["target_modules"] switch
        {
            JsonArray array when array.All(n => n is JsonValue v && v.TryGetValue(out string? _)) => array.DeepClone(),
            JsonValue value when value.TryGetValue(out string? _) => value.DeepClone(),
            _ => throw new InvalidDataException($"'{path}': key 'target_modules' must be a list of module names or a regular expression."),
        };
        Regex? pattern = targets is JsonValue p && p.TryGetValue(out string? text) ? Compile(text, path) : null;
        List<string> modules = json["modules_to_save"] switch
        {
            null => [],
            JsonArray array => [.. array.Select(n => n is JsonValue v && v.TryGetValue(out string? s) ? s : throw new InvalidDataException($"'{path}': key 'modules_to_save' must be a list of module names."))],
            _ => throw new InvalidDataException($"'{path}': key 'modules_to_save' must be a list of module names."),
        };
        return new PeftAdapterConfig(String(json, "task_type", path) ?? string.Empty, rank, alpha, dropout, rsLora, targets, modules, String(json, "base_model_name_or_path", path))
        {
            Source = path,
            TargetPattern = pattern,
        };
    }

    // Bounded read, UTF-8 checked, every key of every object once (JsonObject would throw ArgumentException on the second).
    private static JsonObject ParseObject(string path)
    {
        long length = new FileInfo(path).Length;
        if (length > MaxFileBytes)
        {
            throw new InvalidDataException($"'{path}' has {length} bytes; an {FileName} is at most {MaxFileBytes} bytes.");
        }

        try
        {
            ReadOnlyMemory<byte> text = Utf8JsonInput.Prepare(File.ReadAllBytes(path), $"'{path}'");
            using (JsonDocument document = JsonDocument.Parse(text))
            {
                RefuseDuplicateKeys(document.RootElement, path, "");
            }

            return JsonNode.Parse(text.Span) as JsonObject ?? throw new InvalidDataException($"'{path}' is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e);
        }
    }

    private static void RefuseDuplicateKeys(JsonElement element, string path, string where)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty property in element.EnumerateObject())
            {
                string key = where.Length == 0 ? property.Name : $"{where}.{property.Name}";
                if (!seen.Add(property.Name))
                {
                    throw new InvalidDataException($"'{path}': key '{key}' appears twice; which value counts would be a guess.");
                }

                RefuseDuplicateKeys(property.Value, path, key);
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (JsonElement item in element.EnumerateArray())
            {
                RefuseDuplicateKeys(item, path, $"{where}[{i++}]");
            }
        }
    }

    // The values LoraOptions.Validate refuses from code are refused from the file too, naming the key.
    private static void ValidateLora(int rank, double alpha, double dropout, bool rsLora, string path)
    {
        try
        {
            new LoraOptions { Rank = rank, Alpha = alpha, Dropout = dropout, UseRsLora = rsLora }.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            string key = e.ParamName switch
            {
                nameof(LoraOptions.Rank) => "r",
                nameof(LoraOptions.Alpha) => "lora_alpha",
                nameof(LoraOptions.Dropout) => "lora_dropout",
                _ => e.ParamName ?? "r",
            };
            throw new InvalidDataException($"'{path}': key '{key}' is {e.ActualValue}: {e.Message.Split(" (Parameter", 2)[0]}", e);
        }
    }

    private static Regex Compile(string pattern, string path)
    {
        try
        {
            return new Regex($"^(?:{pattern})$", RegexOptions.CultureInvariant, RegexTimeout);
        }
        catch (ArgumentException e)
        {
            // RegexParseException (an ArgumentException) for a pattern .NET cannot parse.
            throw new InvalidDataException($"'{path}': key 'target_modules' ({Quote(pattern)}) is not a valid regular expression: {e.Message}", e);
        }
    }

    private static string Quote(string pattern) => JsonSerializer.Serialize(pattern.Length > 200 ? pattern[..200] + "…" : pattern);

    private static double? Number(JsonObject json, string key, string path) => json[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out double d) => d,
        _ => throw new InvalidDataException($"'{path}': key '{key}' must be a number."),
    };

    private static string? String(JsonObject json, string key, string path) => json[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? s) => s,
        _ => throw new InvalidDataException($"'{path}': key '{key}' must be a string."),
    };

    private static void Refuse(JsonObject json, string path, string key, Func<JsonNode?, bool> unsupported, string why)
    {
        if (json.TryGetPropertyValue(key, out JsonNode? node) && unsupported(node))
        {
            throw new InvalidDataException($"'{path}': key '{key}' is {node?.ToJsonString() ?? "null"}: {why}.");
        }
    }

    private static InvalidDataException Missing(string path, string key) => new($"'{path}' has no key '{key}'; it is not a PEFT LoRA adapter config.");

    // The dense layers LoRA can target, by kind, in a layer with these names.
    private static Dictionary<LoraTargets, string> LoraSuffixes(EncoderLayerNames names) => new()
    {
        [LoraTargets.Query] = names.Query,
        [LoraTargets.Key] = names.Key,
        [LoraTargets.Value] = names.Value,
        [LoraTargets.AttentionOutput] = names.AttentionOutput,
        [LoraTargets.Intermediate] = names.Intermediate,
        [LoraTargets.Output] = names.Output,
    };
}
