using Bert.Sharp.IO;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// Writes the Hugging Face tokenizer files (<c>vocab.txt</c>, <c>tokenizer_config.json</c>,
/// <c>special_tokens_map.json</c>, <c>tokenizer.json</c>) that <see cref="TokenizerFiles"/> reads back and Hugging Face
/// loads.
/// </summary>
internal static class TokenizerFileWriter
{
    /// <summary>
    /// Adds <c>vocab.txt</c>, <c>tokenizer_config.json</c>, <c>special_tokens_map.json</c> and <c>tokenizer.json</c> to a model
    /// folder save, and removes a stale <c>added_tokens.json</c> (Python's slow tokenizer would read it).
    /// </summary>
    public static void AddTo(ModelFolderWriter folder, WordPieceVocabulary vocabulary, BertTokenizerOptions options, IReadOnlyList<string> addedSpecialTokens)
    {
        var vocabText = new StringBuilder((int)Math.Min(1L << 24, vocabulary.Count * 8L));
        for (int id = 0; id < vocabulary.Count; id++)
        {
            // Ids with no token (possible in a tokenizer.json) get a placeholder so line numbers stay ids.
            vocabText.Append(vocabulary.GetToken(id) ?? $"[unused_id_{id.ToString(CultureInfo.InvariantCulture)}]").Append('\n');
        }

        folder.AddText(TokenizerFiles.VocabFile, vocabText.ToString());
        folder.RemoveIfPresent("added_tokens.json");
        folder.AddText(TokenizerFiles.SpecialTokensMapFile, WriteJson(writer =>
        {
            writer.WriteStartObject();
            WriteSpecialTokens(writer, options);
            writer.WriteEndObject();
        }));
        folder.AddText(TokenizerFiles.ConfigFile, WriteJson(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("tokenizer_class", "BertTokenizer");
            writer.WriteBoolean("do_lower_case", options.DoLowerCase);
            WriteStripAccents(writer, options);
            writer.WriteBoolean("tokenize_chinese_chars", options.TokenizeChineseChars);
            writer.WriteNumber("model_max_length", options.ModelMaxLength);
            WriteSpecialTokens(writer, options);
            writer.WriteEndObject();
        }));
        folder.AddText(TokenizerFiles.TokenizerJsonFile, WriteJson(writer =>
            WriteTokenizerJson(writer, vocabulary, options, addedSpecialTokens)));
    }

    // strip_accents as both files spell it: a boolean, or null for "follow lowercase".
    private static void WriteStripAccents(Utf8JsonWriter writer, BertTokenizerOptions options)
    {
        if (options.StripAccents is { } strip)
        {
            writer.WriteBoolean("strip_accents", strip);
        }
        else
        {
            writer.WriteNull("strip_accents");
        }
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
        WriteStripAccents(writer, options);
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
}
