using System.Text.Json;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// Reads the <c>post_processor</c> of a WordPiece <c>tokenizer.json</c> for <see cref="BertTokenizer"/>, which always adds
/// BERT's special tokens: <c>[CLS] $A [SEP]</c> with type 0, and <c>[CLS] $A [SEP] $B [SEP]</c> with $B and its [SEP] of type 1.
/// <c>BertProcessing</c> and a <c>TemplateProcessing</c> of exactly that shape give the two tokens; any other template, other
/// special-token ids than the vocabulary's, or another post-processor is refused naming the file and key — the
/// <c>tokenizers</c> library would add other ids than <see cref="BertTokenizer"/> does.
/// </summary>
internal static class WordPiecePostProcessor
{
    /// <summary>
    /// The options with the post-processor's [CLS] and [SEP] tokens; <paramref name="idOf"/> gives a token's id in the
    /// vocabulary (or <c>null</c>).
    /// </summary>
    /// <exception cref="InvalidDataException">A malformed value; the message names the file and JSON path.</exception>
    /// <exception cref="NotSupportedException">A post-processor that adds other ids than BERT's; the message names the file and key.</exception>
    public static BertTokenizerOptions Read(JsonElement post, string path, BertTokenizerOptions options, Func<string, int?> idOf)
    {
        string type = post.TryGetProperty("type", out JsonElement t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : string.Empty;
        switch (type)
        {
            case "BertProcessing":
                (string? cls, int? clsId) = TokenAndId(post, "cls", path);
                (string? sep, int? sepId) = TokenAndId(post, "sep", path);
                RequireVocabularyId(cls, clsId, idOf, path, "$.post_processor.cls");
                RequireVocabularyId(sep, sepId, idOf, path, "$.post_processor.sep");
                return options with { ClsToken = cls ?? options.ClsToken, SepToken = sep ?? options.SepToken };
            case "TemplateProcessing":
                return ReadTemplate(post, path, options, idOf);
            default:
                throw new NotSupportedException($"'{path}': $.post_processor.type is '{type}'; a WordPiece tokenizer is read with BertProcessing or BERT's TemplateProcessing ([CLS] $A [SEP]).");
        }
    }

    private static BertTokenizerOptions ReadTemplate(JsonElement post, string path, BertTokenizerOptions options, Func<string, int?> idOf)
    {
        List<(string? Special, string? Sequence, int Type)> single = Pieces(post, "single", path);
        if (single.Count != 3 || single[0].Special is not { } cls || single[1].Sequence != "A" || single[2].Special is not { } sep || single.Any(p => p.Type != 0))
        {
            throw new NotSupportedException($"'{path}': $.post_processor.single is {Describe(single)}; BertTokenizer adds [CLS]:0 $A:0 [SEP]:0.");
        }

        if (post.TryGetProperty("pair", out JsonElement pairElement) && pairElement.ValueKind != JsonValueKind.Null)
        {
            List<(string? Special, string? Sequence, int Type)> pair = Pieces(post, "pair", path);
            (string?, string?, int)[] bert = [(cls, null, 0), (null, "A", 0), (sep, null, 0), (null, "B", 1), (sep, null, 1)];
            if (!pair.SequenceEqual(bert))
            {
                throw new NotSupportedException($"'{path}': $.post_processor.pair is {Describe(pair)}; BertTokenizer adds {cls}:0 $A:0 {sep}:0 $B:1 {sep}:1.");
            }
        }

        // The tokenizers library adds the ids of special_tokens, whatever the vocabulary says.
        if (post.TryGetProperty("special_tokens", out JsonElement specials) && specials.ValueKind == JsonValueKind.Object)
        {
            foreach (string token in new[] { cls, sep })
            {
                if (specials.TryGetProperty(token, out JsonElement entry) && entry.ValueKind == JsonValueKind.Object
                    && entry.TryGetProperty("ids", out JsonElement ids) && ids.ValueKind == JsonValueKind.Array)
                {
                    int[] values = [.. ids.EnumerateArray().Select(i => i.ValueKind == JsonValueKind.Number && i.TryGetInt32(out int v) ? v : -1)];
                    if (values.Length != 1 || values[0] != idOf(token))
                    {
                        throw new NotSupportedException($"'{path}': $.post_processor.special_tokens[\"{token}\"].ids is {ids.GetRawText()}, but the vocabulary gives '{token}' the id {idOf(token)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}; BertTokenizer adds the vocabulary's id.");
                    }
                }
            }
        }

        return options with { ClsToken = cls, SepToken = sep };
    }

    // Each piece of a template: a special token (its id) or a sequence (A or B), with its type id.
    private static List<(string? Special, string? Sequence, int Type)> Pieces(JsonElement post, string key, string path)
    {
        var pieces = new List<(string?, string?, int)>();
        if (!post.TryGetProperty(key, out JsonElement template) || template.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"'{path}': $.post_processor.{key} must be a JSON array.");
        }

        int index = 0;
        foreach (JsonElement piece in template.EnumerateArray())
        {
            string at = $"$.post_processor.{key}[{index++}]";
            bool special = piece.ValueKind == JsonValueKind.Object && piece.TryGetProperty("SpecialToken", out _);
            string kind = special ? "SpecialToken" : "Sequence";
            if (piece.ValueKind != JsonValueKind.Object || !piece.TryGetProperty(kind, out JsonElement body))
            {
                throw new InvalidDataException($"'{path}': {at} must be a SpecialToken or a Sequence.");
            }

            if (body.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"'{path}': {at}.{kind} must be a JSON object, found {body.ValueKind}.");
            }

            string id = body.TryGetProperty("id", out JsonElement idElement) && idElement.ValueKind == JsonValueKind.String
                ? idElement.GetString()!
                : throw new InvalidDataException($"'{path}': {at}.{kind}.id must be a string.");
            int type = 0;
            if (body.TryGetProperty("type_id", out JsonElement typeElement) && typeElement.ValueKind != JsonValueKind.Null
                && !(typeElement.ValueKind == JsonValueKind.Number && typeElement.TryGetInt32(out type) && type >= 0))
            {
                throw new InvalidDataException($"'{path}': {at}.{kind}.type_id must be a non-negative integer, found {typeElement.GetRawText()}.");
            }

            pieces.Add(special ? (id, null, type) : (null, id, type));
        }

        return pieces;
    }

    private static string Describe(List<(string? Special, string? Sequence, int Type)> pieces) =>
        string.Join(" ", pieces.Select(p => p.Special is not null ? $"{p.Special}:{p.Type}" : $"${p.Sequence}:{p.Type}"));

    // BertProcessing's "cls": ["[CLS]", 101].
    private static (string? Token, int? Id) TokenAndId(JsonElement post, string key, string path)
    {
        if (!post.TryGetProperty(key, out JsonElement pair) || pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() == 0)
        {
            return (null, null);
        }

        string token = pair[0].ValueKind == JsonValueKind.String
            ? pair[0].GetString()!
            : throw new InvalidDataException($"'{path}': $.post_processor.{key}[0] must be a token string, found {pair[0].GetRawText()}.");
        return (token, pair.GetArrayLength() > 1 && pair[1].ValueKind == JsonValueKind.Number && pair[1].TryGetInt32(out int id) ? id : null);
    }

    private static void RequireVocabularyId(string? token, int? id, Func<string, int?> idOf, string path, string at)
    {
        if (token is not null && id is int given && idOf(token) != given)
        {
            throw new NotSupportedException($"'{path}': {at} gives '{token}' the id {given}, but the vocabulary gives it {idOf(token)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}; BertTokenizer adds the vocabulary's id.");
        }
    }
}
