using Bert.Sharp.IO;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// Reads the Hugging Face tokenizer files: <c>vocab.txt</c>, <c>tokenizer_config.json</c>,
/// <c>special_tokens_map.json</c> and <c>tokenizer.json</c> (WordPiece model).
/// </summary>
internal static class TokenizerFiles
{
    public const string VocabFile = FolderFileNames.Vocabulary;
    public const string ConfigFile = FolderFileNames.TokenizerConfig;
    public const string SpecialTokensMapFile = FolderFileNames.SpecialTokensMap;
    public const string TokenizerJsonFile = FolderFileNames.TokenizerJson;

    /// <summary>Largest <c>vocab.txt</c> or <c>tokenizer.json</c> read (the largest public ones are tens of megabytes).</summary>
    internal const long MaxVocabularyFileBytes = 256L << 20;

    /// <summary>Largest <c>tokenizer_config.json</c> or <c>special_tokens_map.json</c> read.</summary>
    internal const long MaxConfigFileBytes = 16L << 20;

    /// <summary>Most lines of a <c>vocab.txt</c> (as <see cref="WordPieceVocabulary.MaxIds"/>).</summary>
    internal const int MaxVocabularyLines = WordPieceVocabulary.MaxIds;

    /// <summary>Reads <c>vocab.txt</c>: one token per line, the line number is the id.</summary>
    public static List<KeyValuePair<string, int>> ReadVocabulary(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Vocabulary file '{path}' does not exist.", path);
        }

        RequireSize(path, MaxVocabularyFileBytes);
        var entries = new List<KeyValuePair<string, int>>(32_000);
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        int id = 0;
        while (reader.ReadLine() is { } line)
        {
            if (id == MaxVocabularyLines)
            {
                throw new InvalidDataException($"Vocabulary file '{path}' has more than {MaxVocabularyLines} lines.");
            }

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
            using JsonDocument map = ParseJson(specialTokensMapPath, MaxConfigFileBytes);
            options = ApplySpecialTokens(map.RootElement, specialTokensMapPath, options);
        }

        if (configPath is null || !File.Exists(configPath))
        {
            return options;
        }

        using JsonDocument document = ParseJson(configPath, MaxConfigFileBytes);
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
        using JsonDocument document = ParseJson(path, MaxVocabularyFileBytes);
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
            RequireObject(normalizer, path, "$.normalizer");
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
            RequireObject(preTokenizer, path, "$.pre_tokenizer");
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
            var ids = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (KeyValuePair<string, int> entry in entries)
            {
                ids.TryAdd(entry.Key, entry.Value);
            }

            options = WordPiecePostProcessor.Read(post, path, options, token => ids.TryGetValue(token, out int id) ? id : null);
        }

        if (root.TryGetProperty("padding", out JsonElement padding) && padding.ValueKind == JsonValueKind.Object)
        {
            options = options with { PadToken = OptionalString(padding, "pad_token", path, "$.padding") ?? options.PadToken };
        }

        return new TokenizerDefinition(entries, options, prefix, added, path);
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

    private static void RequireObject(JsonElement element, string path, string at)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"'{path}': {at} must be a JSON object, found {element.ValueKind}.");
        }
    }

    private static void RequireSize(string path, long limit)
    {
        long length = new FileInfo(path).Length;
        if (length > limit)
        {
            throw new InvalidDataException($"'{path}' has {length} bytes; files of this kind are read up to {limit} bytes.");
        }
    }

    private static JsonDocument ParseJson(string path, long limit)
    {
        RequireSize(path, limit);
        try
        {
            return JsonDocument.Parse(Utf8JsonInput.Prepare(File.ReadAllBytes(path), $"'{path}'"), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
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
        if (parent.ValueKind != JsonValueKind.Object || !parent.TryGetProperty(key, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
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
