using System.Text.Json;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// Reads a byte-level BPE or Unigram <c>tokenizer.json</c> into <see cref="TokenizerModelParts"/>. Anything whose
/// behaviour is not reproduced exactly is refused with <see cref="NotSupportedException"/> naming the file and key.
/// </summary>
internal static class TokenizerJsonReader
{
    /// <summary>Largest tokenizer.json read.</summary>
    private const long MaxBytes = 256L << 20;

    /// <summary>The model type of a tokenizer.json (<c>$.model.type</c>), e.g. <c>WordPiece</c>, <c>BPE</c>, <c>Unigram</c>.</summary>
    public static string ModelType(string path)
    {
        using JsonDocument doc = Parse(path);
        return doc.RootElement.TryGetProperty("model", out JsonElement model) && model.ValueKind == JsonValueKind.Object
            && model.TryGetProperty("type", out JsonElement type) && type.ValueKind == JsonValueKind.String
            ? type.GetString()!
            : throw new InvalidDataException($"'{path}': $.model.type is missing.");
    }

    /// <summary>Reads the file.</summary>
    public static TokenizerModelParts Read(string path)
    {
        using JsonDocument doc = Parse(path);
        JsonElement root = doc.RootElement;
        JsonElement model = root.GetProperty("model");
        string type = model.GetProperty("type").GetString()!;
        var idToToken = new Dictionary<int, string>();
        var added = ReadAddedTokens(root, path, idToToken);
        var specialIds = added.Where(a => a.Special).Select(a => a.Id).ToHashSet();
        ITextNormalizer? normalizer = ReadNormalizer(Get(root, "normalizer"), path, "$.normalizer");
        JsonElement pre = Get(root, "pre_tokenizer");
        var charToByte = new Dictionary<char, byte>();
        for (int b = 0; b < 256; b++)
        {
            charToByte[BpeModel.Alphabet[b]] = (byte)b;
        }

        Func<string, int?> lookup;
        if (type == "BPE")
        {
            RequireNullOrEmpty(model, "dropout", path, "$.model.dropout");
            RequireNullOrEmpty(model, "continuing_subword_prefix", path, "$.model.continuing_subword_prefix");
            RequireNullOrEmpty(model, "end_of_word_suffix", path, "$.model.end_of_word_suffix");
            if (Get(model, "byte_fallback").ValueKind == JsonValueKind.True)
            {
                throw new NotSupportedException($"'{path}': $.model.byte_fallback true is not supported.");
            }

            if (pre.ValueKind != JsonValueKind.Object || Str(pre, "type") != "ByteLevel")
            {
                throw new NotSupportedException($"'{path}': $.pre_tokenizer.type is '{Str(pre, "type")}'; BPE models are read with the ByteLevel pre-tokenizer only.");
            }

            if (Get(pre, "use_regex").ValueKind == JsonValueKind.False)
            {
                throw new NotSupportedException($"'{path}': $.pre_tokenizer.use_regex false is not supported.");
            }

            var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (JsonProperty p in model.GetProperty("vocab").EnumerateObject())
            {
                vocab[p.Name] = p.Value.GetInt32();
                idToToken.TryAdd(p.Value.GetInt32(), p.Name);
            }

            var ranks = new Dictionary<(string, string), int>();
            int rank = 0;
            foreach (JsonElement m in model.GetProperty("merges").EnumerateArray())
            {
                (string a, string b) = m.ValueKind == JsonValueKind.String
                    ? Halves(m.GetString()!, path)
                    : (m[0].GetString()!, m[1].GetString()!);
                ranks.TryAdd((a, b), rank++);
            }

            bool ignoreMerges = Get(model, "ignore_merges").ValueKind == JsonValueKind.True;
            bool prefix = Get(pre, "add_prefix_space").ValueKind == JsonValueKind.True;
            lookup = t => vocab.TryGetValue(t, out int id) ? id : null;
            return new TokenizerModelParts(TokenizerKind.ByteLevelBpe, normalizer, prefix, "never", false, new BpeModel(vocab, ranks, ignoreMerges), null,
                added, ReadTemplate(Get(root, "post_processor"), path, added, lookup), idToToken, specialIds, charToByte);
        }

        if (type == "Unigram")
        {
            if (Get(model, "byte_fallback").ValueKind == JsonValueKind.True)
            {
                throw new NotSupportedException($"'{path}': $.model.byte_fallback true is not supported.");
            }

            var pieces = new List<(string, double)>();
            var ids = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (JsonElement entry in model.GetProperty("vocab").EnumerateArray())
            {
                string piece = entry[0].GetString()!;
                ids.TryAdd(piece, pieces.Count);
                idToToken[pieces.Count] = piece;
                pieces.Add((piece, entry[1].GetDouble()));
            }

            JsonElement unk = Get(model, "unk_id");
            int unkId = unk.ValueKind == JsonValueKind.Number ? unk.GetInt32()
                : throw new NotSupportedException($"'{path}': $.model.unk_id is missing; a Unigram model without an unknown id is not supported.");
            if (pre.ValueKind != JsonValueKind.Object || Str(pre, "type") != "Metaspace")
            {
                throw new NotSupportedException($"'{path}': $.pre_tokenizer.type is '{Str(pre, "type")}'; Unigram models are read with the Metaspace pre-tokenizer only.");
            }

            if (Str(pre, "replacement") is { } replacement && replacement != "\u2581")
            {
                throw new NotSupportedException($"'{path}': $.pre_tokenizer.replacement '{replacement}' is not supported (only U+2581).");
            }

            string scheme = Str(pre, "prepend_scheme")
                ?? (Get(pre, "add_prefix_space").ValueKind == JsonValueKind.False ? "never" : "always");
            if (scheme is not ("always" or "first" or "never"))
            {
                throw new NotSupportedException($"'{path}': $.pre_tokenizer.prepend_scheme '{scheme}' is not supported.");
            }

            bool split = Get(pre, "split").ValueKind != JsonValueKind.False;
            lookup = t => ids.TryGetValue(t, out int id) ? id : null;
            return new TokenizerModelParts(TokenizerKind.Unigram, normalizer, false, scheme, split, null, new UnigramModel(pieces, unkId),
                added, ReadTemplate(Get(root, "post_processor"), path, added, lookup), idToToken, specialIds, charToByte);
        }

        throw new NotSupportedException($"'{path}': $.model.type is '{type}'; supported are WordPiece, BPE (byte-level) and Unigram.");
    }

    private static List<AddedToken> ReadAddedTokens(JsonElement root, string path, Dictionary<int, string> idToToken)
    {
        var list = new List<AddedToken>();
        JsonElement array = Get(root, "added_tokens");
        if (array.ValueKind != JsonValueKind.Array)
        {
            return list;
        }

        int index = 0;
        foreach (JsonElement t in array.EnumerateArray())
        {
            if (Get(t, "single_word").ValueKind == JsonValueKind.True)
            {
                throw new NotSupportedException($"'{path}': $.added_tokens[{index}].single_word true is not supported.");
            }

            bool special = Get(t, "special").ValueKind == JsonValueKind.True;
            var token = new AddedToken(t.GetProperty("id").GetInt32(), t.GetProperty("content").GetString()!, special,
                Get(t, "lstrip").ValueKind == JsonValueKind.True, Get(t, "rstrip").ValueKind == JsonValueKind.True);
            list.Add(token);
            idToToken[token.Id] = token.Content;
            index++;
        }

        return list;
    }

    private static ITextNormalizer? ReadNormalizer(JsonElement n, string path, string at)
    {
        if (n.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return null;
        }

        string? type = Str(n, "type");
        switch (type)
        {
            case "Sequence":
                var steps = new List<ITextNormalizer>();
                int i = 0;
                foreach (JsonElement s in n.GetProperty("normalizers").EnumerateArray())
                {
                    if (ReadNormalizer(s, path, $"{at}.normalizers[{i++}]") is { } step)
                    {
                        steps.Add(step);
                    }
                }

                return new SequenceNormalizer(steps);
            case "Precompiled":
                string? blob = Str(n, "precompiled_charsmap");
                return string.IsNullOrEmpty(blob) ? null : PrecompiledNormalizer.Parse(Convert.FromBase64String(blob), path);
            case "NFC":
                return UnicodeNormalizer.Nfc;
            case "NFD":
                return UnicodeNormalizer.Nfd;
            case "NFKC":
                return UnicodeNormalizer.Nfkc;
            case "NFKD":
                return UnicodeNormalizer.Nfkd;
            case "Lowercase":
                return LowercaseNormalizer.Instance;
            case "Strip":
                return new StripNormalizer(Get(n, "strip_left").ValueKind == JsonValueKind.True, Get(n, "strip_right").ValueKind == JsonValueKind.True);
            case "Replace":
                JsonElement pattern = n.GetProperty("pattern");
                string content = Str(n, "content") ?? "";
                if (Str(pattern, "String") is { } literal)
                {
                    return ReplaceNormalizer.ForString(literal, content);
                }

                if (Str(pattern, "Regex") is { } regex && ReplaceNormalizer.ParseRepeat(regex) is { } repeat)
                {
                    return ReplaceNormalizer.ForRepeat(repeat.CodePoint, repeat.Minimum, content);
                }

                throw new NotSupportedException($"'{path}': {at}.pattern is not supported (a literal string or a regex 'X{{n,}}' only).");
            default:
                throw new NotSupportedException($"'{path}': {at}.type is '{type}'; supported normalizers are Sequence, Precompiled, NFC, NFD, NFKC, NFKD, Lowercase, Replace and Strip.");
        }
    }

    private static PostTemplate ReadTemplate(JsonElement post, string path, List<AddedToken> added, Func<string, int?> lookup)
    {
        int Id(string token) => added.FirstOrDefault(a => a.Content == token)?.Id ?? lookup(token)
            ?? throw new InvalidDataException($"'{path}': $.post_processor names '{token}', which is not in the vocabulary.");
        string? type = post.ValueKind == JsonValueKind.Object ? Str(post, "type") : null;
        switch (type)
        {
            case null:
            case "ByteLevel":
                return new PostTemplate([], [], 0, [], [], [], 0, 1);
            case "RobertaProcessing":
                int cls = Id(post.GetProperty("cls")[0].GetString()!);
                int sep = Id(post.GetProperty("sep")[0].GetString()!);
                return new PostTemplate([cls], [sep], 0, [cls], [sep, sep], [sep], 0, 0);
            case "TemplateProcessing":
                var specials = new Dictionary<string, int[]>(StringComparer.Ordinal);
                foreach (JsonProperty p in post.GetProperty("special_tokens").EnumerateObject())
                {
                    specials[p.Name] = p.Value.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
                }

                var single = Parts(post.GetProperty("single"), specials, path, "$.post_processor.single");
                var pair = Parts(post.GetProperty("pair"), specials, path, "$.post_processor.pair");
                if (single.Sequences.Count != 1 || single.Sequences[0] != "A" || pair.Sequences.Count != 2 || pair.Sequences[0] != "A" || pair.Sequences[1] != "B")
                {
                    throw new NotSupportedException($"'{path}': $.post_processor templates must hold $A (single) and $A then $B (pair).");
                }

                // The type ids the template gives $A and $B (BERT's template: 0 and 1; RoBERTa-like ones: 0 and 0).
                return new PostTemplate(
                    single.Chunks[0], single.Chunks[1], SequenceTypeId(post.GetProperty("single"), "A"),
                    pair.Chunks[0], pair.Chunks[1], pair.Chunks[2], SequenceTypeId(post.GetProperty("pair"), "A"), SequenceTypeId(post.GetProperty("pair"), "B"));
            default:
                throw new NotSupportedException($"'{path}': $.post_processor.type is '{type}'; supported are RobertaProcessing, TemplateProcessing and ByteLevel.");
        }
    }

    private static int SequenceTypeId(JsonElement template, string id)
    {
        foreach (JsonElement piece in template.EnumerateArray())
        {
            if (piece.TryGetProperty("Sequence", out JsonElement seq) && seq.GetProperty("id").GetString() == id)
            {
                return seq.TryGetProperty("type_id", out JsonElement type) && type.ValueKind == JsonValueKind.Number ? type.GetInt32() : 0;
            }
        }

        return 0;
    }

    private static (List<string> Sequences, List<int[]> Chunks) Parts(JsonElement template, Dictionary<string, int[]> specials, string path, string at)
    {
        var sequences = new List<string>();
        var chunks = new List<int[]>();
        var current = new List<int>();
        foreach (JsonElement piece in template.EnumerateArray())
        {
            if (piece.TryGetProperty("Sequence", out JsonElement seq))
            {
                sequences.Add(seq.GetProperty("id").GetString()!);
                chunks.Add([.. current]);
                current.Clear();
            }
            else if (piece.TryGetProperty("SpecialToken", out JsonElement sp))
            {
                string id = sp.GetProperty("id").GetString()!;
                current.AddRange(specials.TryGetValue(id, out int[]? ids) ? ids
                    : throw new InvalidDataException($"'{path}': {at} names special token '{id}', absent from $.post_processor.special_tokens."));
            }
        }

        chunks.Add([.. current]);
        return (sequences, chunks);
    }

    private static (string, string) Halves(string merge, string path)
    {
        int space = merge.IndexOf(' ', StringComparison.Ordinal);
        return space > 0 ? (merge[..space], merge[(space + 1)..])
            : throw new InvalidDataException($"'{path}': $.model.merges entry '{merge}' is not two tokens separated by a space.");
    }

    private static void RequireNullOrEmpty(JsonElement parent, string key, string path, string at)
    {
        JsonElement v = Get(parent, key);
        if (v.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined) && !(v.ValueKind == JsonValueKind.String && v.GetString()!.Length == 0))
        {
            throw new NotSupportedException($"'{path}': {at} is {v.GetRawText()}; only null is supported.");
        }
    }

    private static JsonElement Get(JsonElement parent, string key) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(key, out JsonElement v) ? v : default;

    private static string? Str(JsonElement parent, string key) =>
        Get(parent, key) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    private static JsonDocument Parse(string path)
    {
        var info = new FileInfo(path);
        if (info.Length > MaxBytes)
        {
            throw new InvalidDataException($"'{path}' is {info.Length} bytes, more than the {MaxBytes} read.");
        }

        try
        {
            using FileStream stream = File.OpenRead(path);
            return JsonDocument.Parse(stream);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e);
        }
    }
}
