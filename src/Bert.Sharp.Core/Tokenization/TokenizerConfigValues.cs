using System.Text.Json;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// The values of <c>tokenizer_config.json</c> and <c>special_tokens_map.json</c> a <see cref="SubwordTokenizer"/> needs for
/// batches: the longest sequence (<c>model_max_length</c>) and the padding token (<c>pad_token</c>), read as transformers
/// reads them.
/// </summary>
internal static class TokenizerConfigValues
{
    /// <summary><c>$.model_max_length</c>; none, or transformers' "no limit" (1e30): <see cref="int.MaxValue"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not JSON, or the value is not a positive number; the message names the file.</exception>
    public static int ModelMaxLength(byte[]? config, string fileName)
    {
        using JsonDocument? doc = Parse(config, fileName);
        if (doc is not null && doc.RootElement.TryGetProperty("model_max_length", out JsonElement max) && max.ValueKind != JsonValueKind.Null)
        {
            if (max.ValueKind != JsonValueKind.Number || !max.TryGetDouble(out double value) || value < 1)
            {
                throw new InvalidDataException($"'{fileName}': $.model_max_length must be a positive number, found {max.GetRawText()}.");
            }

            return value >= int.MaxValue ? int.MaxValue : (int)value;
        }

        return int.MaxValue;
    }

    /// <summary>
    /// <c>$.pad_token</c> of the config, else of the special-tokens map: a string or an object with <c>content</c> (an
    /// <c>AddedToken</c>), with the file that names it; <c>null</c> when neither does (transformers then refuses to pad).
    /// </summary>
    public static (string Token, string File)? PadToken(byte[]? config, string configName, byte[]? specialTokensMap, string mapName)
    {
        foreach ((byte[]? bytes, string name) in new[] { (config, configName), (specialTokensMap, mapName) })
        {
            using JsonDocument? doc = Parse(bytes, name);
            if (doc is null || !doc.RootElement.TryGetProperty("pad_token", out JsonElement pad))
            {
                continue;
            }

            switch (pad.ValueKind)
            {
                case JsonValueKind.String:
                    return (pad.GetString()!, name);
                case JsonValueKind.Object when pad.TryGetProperty("content", out JsonElement content) && content.ValueKind == JsonValueKind.String:
                    return (content.GetString()!, name);
                case JsonValueKind.Null:
                    continue;
                default:
                    throw new InvalidDataException($"'{name}': $.pad_token must be a string or an object with a string 'content', found {pad.GetRawText()}.");
            }
        }

        return null;
    }

    private static JsonDocument? Parse(byte[]? bytes, string fileName)
    {
        if (bytes is null)
        {
            return null;
        }

        try
        {
            JsonDocument doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                doc.Dispose();
                throw new InvalidDataException($"'{fileName}' must hold a JSON object.");
            }

            return doc;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{fileName}' is not valid JSON: {e.Message}", e);
        }
    }
}
