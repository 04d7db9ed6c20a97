using Bert.Sharp.IO;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// Reads and writes the Hugging Face tokenizer files: <c>vocab.txt</c>, <c>tokenizer_config.json</c>,
/// <c>special_tokens_map.json</c> and <c>tokenizer.json</c> (WordPiece model).
/// </summary>
internal static class TokenizerFiles
{
    public const string VocabFile = "vocab.txt";
    public const string ConfigFile = "tokenizer_config.json";
    public const string SpecialTokensMapFile = "special_tokens_map.json";
    public const string TokenizerJsonFile = "tokenizer.json";

    /// <summary>Reads <c>vocab.txt</c>: one token per line, the line number is the id.</summary>
    public static List<KeyValuePair<string, int>> ReadVocabulary(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Vocabulary file '{path}' does not exist.", path);
        }

        var entries = new List<KeyValuePair<string, int>>(32_000);
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        int id = 0;
        while (reader.ReadLine() is { } line)
        {
            // As Hugging Face's reader: trailing whitespace is not part of the token.
            entries.Add(new KeyValuePair<string, int>(line.TrimEnd(), id));
            id++;
        }

        if (entries.Count == 0)
        {
            throw new InvalidDataException($"Vocabulary file '{path}' is empty.");
        }

        return entries;
    }

    /// <summary>Applies the keys of a <c>tokenizer_config.json</c> (and optional <c>special_tokens_map.json</c>) to options.</summary>
    public static BertTokenizerOptions ReadConfig(string? configPath, string? specialTokensMapPath, BertTokenizerOptions options)
    {
        if (specialTokensMapPath is not null && File.Exists(specialTokensMapPath))
        {
            using JsonDocument map = ParseJson(specialTokensMapPath);
            options = ApplySpecialTokens(map.RootElement, specialTokensMapPath, options);
        }

        if (configPath is null || !File.Exists(configPath))
        {
            return options;
        }

        using JsonDocument document = ParseJson(configPath);
        JsonElement root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"'{configPath}': expected a JSON object at $.");
        }

        options = ApplySpecialTokens(root, configPath, options);
        if (TryGetBool(root, "do_lower_case", configPath, out bool lower))
        {
            options = options with { DoLowerCase = lower };
        }

        if (root.TryGetProperty("strip_accents", out JsonElement strip))
        {
            options = options with { StripAccents = ReadNullableBool(strip, configPath, "$.strip_accents") };
        }

        if (TryGetBool(root, "tokenize_chinese_chars", configPath, out bool chinese))
        {
            options = options with { TokenizeChineseChars = chinese };
        }

        if (root.TryGetProperty("model_max_length", out JsonElement max) || root.TryGetProperty("max_len", out max))
        {
            if (max.ValueKind != JsonValueKind.Number || !max.TryGetDouble(out double value) || value < 1)
            {
                throw new InvalidDataException($"'{configPath}': $.model_max_length must be a positive number, found {max.GetRawText()}.");
            }

            // Some checkpoints store 1e30 for "no limit".
            options = options with { ModelMaxLength = value >= int.MaxValue ? int.MaxValue : (int)value };
        }

        return options;
    }

    /// <summary>Reads a Hugging Face <c>tokenizer.json</c> with a WordPiece model and BERT normalizer/pre-tokenizer.</summary>
    public static TokenizerDefinition ReadTokenizerJson(string path, BertTokenizerOptions options)
    {
        using JsonDocument document = ParseJson(path);
        JsonElement root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"'{path}': expected a JSON object at $.");
        }

        JsonElement model = Required(root, "model", JsonValueKind.Object, path, "$");
        string type = model.TryGetProperty("type", out JsonElement typeElement) && typeElement.ValueKind == JsonValueKind.String
            ? typeElement.GetString()!
            : "WordPiece";
        if (type != "WordPiece")
        {
            throw new NotSupportedException($"'{path}': $.model.type is '{type}'; BertTokenizer reads WordPiece models only.");
        }

        JsonElement vocab = Required(model, "vocab", JsonValueKind.Object, path, "$.model");
        var entries = new List<KeyValuePair<string, int>>(32_000);
        foreach (JsonProperty property in vocab.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt32(out int id) || id < 0)
            {
                throw new InvalidDataException(
                    $"'{path}': $.model.vocab[\"{property.Name}\"] must be a non-negative integer id, found {property.Value.GetRawText()}.");
            }

            entries.Add(new KeyValuePair<string, int>(property.Name, id));
        }

        if (entries.Count == 0)
        {
            throw new InvalidDataException($"'{path}': $.model.vocab is empty.");
        }

        options = options with
        {
            UnknownToken = OptionalString(model, "unk_token", path, "$.model") ?? options.UnknownToken,
            MaxInputCharsPerWord = OptionalInt(model, "max_input_chars_per_word", path, "$.model") ?? options.MaxInputCharsPerWord,
        };
        string prefix = OptionalString(model, "continuing_subword_prefix", path, "$.model") ?? "##";

        if (root.TryGetProperty("normalizer", out JsonElement normalizer) && normalizer.ValueKind != JsonValueKind.Null)
        {
            string normalizerType = OptionalString(normalizer, "type", path, "$.normalizer") ?? string.Empty;
            if (normalizerType != "BertNormalizer")
            {
                throw new NotSupportedException($"'{path}': $.normalizer.type is '{normalizerType}'; only BertNormalizer is supported.");
            }

            options = options with
            {
                CleanText = OptionalBool(normalizer, "clean_text", path, "$.normalizer") ?? true,
                TokenizeChineseChars = OptionalBool(normalizer, "handle_chinese_chars", path, "$.normalizer") ?? true,
                DoLowerCase = OptionalBool(normalizer, "lowercase", path, "$.normalizer") ?? true,
                StripAccents = normalizer.TryGetProperty("strip_accents", out JsonElement s)
                    ? ReadNullableBool(s, path, "$.normalizer.strip_accents")
                    : null,
            };
        }
        else
        {
            options = options with { CleanText = false, TokenizeChineseChars = false, DoLowerCase = false, StripAccents = false };
        }

        if (root.TryGetProperty("pre_tokenizer", out JsonElement preTokenizer) && preTokenizer.ValueKind != JsonValueKind.Null)
        {
            string preType = OptionalString(preTokenizer, "type", path, "$.pre_tokenizer") ?? string.Empty;
            if (preType != "BertPreTokenizer")
            {
                throw new NotSupportedException($"'{path}': $.pre_tokenizer.type is '{preType}'; only BertPreTokenizer is supported.");
            }
        }

        var added = new List<string>();
        if (root.TryGetProperty("added_tokens", out JsonElement addedTokens) && addedTokens.ValueKind == JsonValueKind.Array)
        {
            int index = 0;
            foreach (JsonElement token in addedTokens.EnumerateArray())
            {
                string at = $"$.added_tokens[{index}]";
                string content = OptionalString(token, "content", path, at)
                    ?? throw new InvalidDataException($"'{path}': {at}.content is missing.");
                if (OptionalBool(token, "special", path, at) ?? false)
                {
                    added.Add(content);
                }

                index++;
            }
        }

        if (root.TryGetProperty("post_processor", out JsonElement post) && post.ValueKind == JsonValueKind.Object)
        {
            options = ReadPostProcessor(post, path, options);
        }

        if (root.TryGetProperty("padding", out JsonElement padding) && padding.ValueKind == JsonValueKind.Object)
        {
            options = options with { PadToken = OptionalString(padding, "pad_token", path, "$.padding") ?? options.PadToken };
        }

        return new TokenizerDefinition(entries, options, prefix, added, path);
    }

    /// <summary>
    /// Adds <c>vocab.txt</c>, <c>tokenizer_config.json</c>, <c>special_tokens_map.json</c> and <c>tokenizer.json</c> to a model
    /// folder save, and removes a stale <c>added_tokens.json</c> (Python's slow tokenizer would read it).
    /// </summary>
    public static void AddTo(ModelFolderWriter folder, WordPieceVocabulary vocabulary, BertTokenizerOptions options, IReadOnlyList<string> addedSpecialTokens)
    {
        var vocabText = new StringBuilder(vocabulary.Count * 8);
        for (int id = 0; id < vocabulary.Count; id++)
        {
            // Ids with no token (possible in a tokenizer.json) get a placeholder so line numbers stay ids.
            vocabText.Append(vocabulary.GetToken(id) ?? $"[unused_id_{id.ToString(CultureInfo.InvariantCulture)}]").Append('\n');
        }

        folder.AddText(VocabFile, vocabText.ToString());
        folder.RemoveIfPresent("added_tokens.json");
        folder.AddText(SpecialTokensMapFile, WriteJson(writer =>
        {
            writer.WriteStartObject();
            WriteSpecialTokens(writer, options);
            writer.WriteEndObject();
        }));
        folder.AddText(ConfigFile, WriteJson(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("tokenizer_class", "BertTokenizer");
            writer.WriteBoolean("do_lower_case", options.DoLowerCase);
            if (options.StripAccents is { } strip)
            {
                writer.WriteBoolean("strip_accents", strip);
            }
            else
            {
                writer.WriteNull("strip_accents");
            }

            writer.WriteBoolean("tokenize_chinese_chars", options.TokenizeChineseChars);
            writer.WriteNumber("model_max_length", options.ModelMaxLength);
            WriteSpecialTokens(writer, options);
            writer.WriteEndObject();
        }));
        folder.AddText(TokenizerJsonFile, WriteJson(json =>
            WriteTokenizerJson(json, vocabulary, options, addedSpecialTokens)));
    }

    private static void WriteTokenizerJson(Utf8JsonWriter writer, WordPieceVocabulary vocabulary, BertTokenizerOptions options, IReadOnlyList<string> addedSpecialTokens)
    {
        writer.WriteStartObject();
        writer.WriteString("version", "1.0");
        writer.WriteNull("truncation");
        writer.WriteNull("padding");
        writer.WriteStartArray("added_tokens");
        var specials = new[] { options.PadToken, options.UnknownToken, options.ClsToken, options.SepToken, options.MaskToken }
            .Concat(addedSpecialTokens)
            .Where(t => vocabulary.TryGetId(t, out _))
            .Distinct(StringComparer.Ordinal)
            .Select(t => (Token: t, Id: vocabulary.TokenToId[t]))
            .OrderBy(t => t.Id);
        foreach ((string token, int id) in specials)
        {
            writer.WriteStartObject();
            writer.WriteNumber("id", id);
            writer.WriteString("content", token);
            writer.WriteBoolean("single_word", false);
            writer.WriteBoolean("lstrip", false);
            writer.WriteBoolean("rstrip", false);
            writer.WriteBoolean("normalized", false);
            writer.WriteBoolean("special", true);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartObject("normalizer");
        writer.WriteString("type", "BertNormalizer");
        writer.WriteBoolean("clean_text", options.CleanText);
        writer.WriteBoolean("handle_chinese_chars", options.TokenizeChineseChars);
        if (options.StripAccents is { } strip)
        {
            writer.WriteBoolean("strip_accents", strip);
        }
        else
        {
            writer.WriteNull("strip_accents");
        }

        writer.WriteBoolean("lowercase", options.DoLowerCase);
        writer.WriteEndObject();
        writer.WriteStartObject("pre_tokenizer");
        writer.WriteString("type", "BertPreTokenizer");
        writer.WriteEndObject();
        writer.WriteStartObject("post_processor");
        writer.WriteString("type", "TemplateProcessing");
        writer.WriteStartArray("single");
        WriteTemplatePiece(writer, "SpecialToken", options.ClsToken, 0);
        WriteTemplatePiece(writer, "Sequence", "A", 0);
        WriteTemplatePiece(writer, "SpecialToken", options.SepToken, 0);
        writer.WriteEndArray();
        writer.WriteStartArray("pair");
        WriteTemplatePiece(writer, "SpecialToken", options.ClsToken, 0);
        WriteTemplatePiece(writer, "Sequence", "A", 0);
        WriteTemplatePiece(writer, "SpecialToken", options.SepToken, 0);
        WriteTemplatePiece(writer, "Sequence", "B", 1);
        WriteTemplatePiece(writer, "SpecialToken", options.SepToken, 1);
        writer.WriteEndArray();
        writer.WriteStartObject("special_tokens");
        foreach (string token in new[] { options.ClsToken, options.SepToken }.Distinct(StringComparer.Ordinal))
        {
            writer.WriteStartObject(token);
            writer.WriteString("id", token);
            writer.WriteStartArray("ids");
            writer.WriteNumberValue(vocabulary.TokenToId[token]);
            writer.WriteEndArray();
            writer.WriteStartArray("tokens");
            writer.WriteStringValue(token);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteStartObject("decoder");
        writer.WriteString("type", "WordPiece");
        writer.WriteString("prefix", vocabulary.ContinuingSubwordPrefix);
        writer.WriteBoolean("cleanup", true);
        writer.WriteEndObject();
        writer.WriteStartObject("model");
        writer.WriteString("type", "WordPiece");
        writer.WriteString("unk_token", options.UnknownToken);
        writer.WriteString("continuing_subword_prefix", vocabulary.ContinuingSubwordPrefix);
        writer.WriteNumber("max_input_chars_per_word", options.MaxInputCharsPerWord);
        writer.WriteStartObject("vocab");
        foreach (KeyValuePair<string, int> entry in vocabulary.TokenToId.OrderBy(e => e.Value))
        {
            writer.WriteNumber(entry.Key, entry.Value);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteTemplatePiece(Utf8JsonWriter writer, string kind, string id, int typeId)
    {
        writer.WriteStartObject();
        writer.WriteStartObject(kind);
        writer.WriteString("id", id);
        writer.WriteNumber("type_id", typeId);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteSpecialTokens(Utf8JsonWriter writer, BertTokenizerOptions options)
    {
        writer.WriteString("unk_token", options.UnknownToken);
        writer.WriteString("sep_token", options.SepToken);
        writer.WriteString("pad_token", options.PadToken);
        writer.WriteString("cls_token", options.ClsToken);
        writer.WriteString("mask_token", options.MaskToken);
    }

    private static string WriteJson(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            write(writer);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static BertTokenizerOptions ReadPostProcessor(JsonElement post, string path, BertTokenizerOptions options)
    {
        string type = OptionalString(post, "type", path, "$.post_processor") ?? string.Empty;
        if (type == "BertProcessing")
        {
            string? cls = post.TryGetProperty("cls", out JsonElement c) && c.ValueKind == JsonValueKind.Array && c.GetArrayLength() > 0 ? c[0].GetString() : null;
            string? sep = post.TryGetProperty("sep", out JsonElement s) && s.ValueKind == JsonValueKind.Array && s.GetArrayLength() > 0 ? s[0].GetString() : null;
            return options with { ClsToken = cls ?? options.ClsToken, SepToken = sep ?? options.SepToken };
        }

        if (type == "TemplateProcessing" && post.TryGetProperty("single", out JsonElement single) && single.ValueKind == JsonValueKind.Array)
        {
            var specials = single.EnumerateArray()
                .Where(p => p.ValueKind == JsonValueKind.Object && p.TryGetProperty("SpecialToken", out _))
                .Select(p => p.GetProperty("SpecialToken").TryGetProperty("id", out JsonElement id) ? id.GetString() : null)
                .ToList();
            if (specials.Count == 2 && specials[0] is { } cls && specials[1] is { } sep)
            {
                return options with { ClsToken = cls, SepToken = sep };
            }
        }

        return options;
    }

    private static BertTokenizerOptions ApplySpecialTokens(JsonElement root, string path, BertTokenizerOptions options)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"'{path}': expected a JSON object at $.");
        }

        return options with
        {
            UnknownToken = SpecialToken(root, "unk_token", path) ?? options.UnknownToken,
            ClsToken = SpecialToken(root, "cls_token", path) ?? options.ClsToken,
            SepToken = SpecialToken(root, "sep_token", path) ?? options.SepToken,
            PadToken = SpecialToken(root, "pad_token", path) ?? options.PadToken,
            MaskToken = SpecialToken(root, "mask_token", path) ?? options.MaskToken,
        };
    }

    // A special token is written either as a string or as an AddedToken object with "content".
    private static string? SpecialToken(JsonElement root, string key, string path)
    {
        if (!root.TryGetProperty(key, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out JsonElement content) && content.ValueKind == JsonValueKind.String => content.GetString(),
            _ => throw new InvalidDataException($"'{path}': $.{key} must be a string or an object with \"content\", found {value.GetRawText()}."),
        };
    }

    private static JsonDocument ParseJson(string path)
    {
        try
        {
            using FileStream stream = File.OpenRead(path);
            return JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException(
                $"'{path}' is not valid JSON (line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}, path {ex.Path ?? "$"}): {ex.Message}", ex);
        }
    }

    private static JsonElement Required(JsonElement parent, string key, JsonValueKind kind, string path, string at)
    {
        if (!parent.TryGetProperty(key, out JsonElement value))
        {
            throw new InvalidDataException($"'{path}': {at}.{key} is missing.");
        }

        if (value.ValueKind != kind)
        {
            throw new InvalidDataException($"'{path}': {at}.{key} must be a JSON {kind}, found {value.ValueKind}.");
        }

        return value;
    }

    private static string? OptionalString(JsonElement parent, string key, string path, string at)
    {
        if (parent.ValueKind != JsonValueKind.Object || !parent.TryGetProperty(key, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new InvalidDataException($"'{path}': {at}.{key} must be a string, found {value.GetRawText()}.");
    }

    private static bool? OptionalBool(JsonElement parent, string key, string path, string at)
    {
        if (parent.ValueKind != JsonValueKind.Object || !parent.TryGetProperty(key, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return ReadNullableBool(value, path, $"{at}.{key}");
    }

    private static int? OptionalInt(JsonElement parent, string key, string path, string at)
    {
        if (!parent.TryGetProperty(key, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int result) && result > 0
            ? result
            : throw new InvalidDataException($"'{path}': {at}.{key} must be a positive integer, found {value.GetRawText()}.");
    }

    private static bool TryGetBool(JsonElement root, string key, string path, out bool value)
    {
        value = false;
        bool? read = OptionalBool(root, key, path, "$");
        if (read is null)
        {
            return false;
        }

        value = read.Value;
        return true;
    }

    private static bool? ReadNullableBool(JsonElement value, string path, string at) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null => null,
        _ => throw new InvalidDataException($"'{path}': {at} must be true, false or null, found {value.GetRawText()}."),
    };
}
