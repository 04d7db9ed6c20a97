using System.Buffers;
using Microsoft.ML.Tokenizers;

namespace Bert.Sharp.Tests.Tokenization;

/// <summary>
/// <see cref="BertTokenizer.AsTokenizer"/> as a <c>Microsoft.ML.Tokenizers.Tokenizer</c>: Hugging Face's ids through
/// the abstraction, offsets into the original text, token counts and the trimming semantics of
/// <c>GetIndexByTokenCount</c> / <c>GetIndexByTokenCountFromEnd</c>.
/// </summary>
public sealed class HuggingFaceBertTokenizerTests
{
    private static BertTokenizer Ours => HuggingFaceOracle.Uncased.Ours;

    // How code written for ML.NET sees a tokenizer: only the abstract type.
    private static Tokenizer WithSpecialTokens => Ours.AsTokenizer();

    private static Tokenizer TextOnly => Ours.AsTokenizer(addSpecialTokens: false);

    public static TheoryData<string> Oracles => new() { "uncased", "cased", "cased-small-vocab" };

    [Theory]
    [MemberData(nameof(Oracles))]
    public void Ids_through_the_Tokenizer_abstraction_equal_Encode_on_the_conformance_corpus(string name)
    {
        BertTokenizer ours = name switch
        {
            "uncased" => HuggingFaceOracle.Uncased.Ours,
            "cased" => HuggingFaceOracle.Cased.Ours,
            _ => HuggingFaceOracle.CasedSmallVocabulary.Ours,
        };
        Tokenizer withSpecials = ours.AsTokenizer();
        Tokenizer textOnly = ours.AsTokenizer(addSpecialTokens: false);
        foreach (string text in ConformanceCorpus.Texts)
        {
            int[] expected = [.. ours.Encode(text)];
            Assert.Equal(expected, withSpecials.EncodeToIds(text));
            Assert.Equal(expected, withSpecials.EncodeToIds(text.AsSpan()));
            Assert.Equal(expected, withSpecials.EncodeToTokens(text, out string? normalized).Select(t => t.Id));
            Assert.Null(normalized);
            Assert.Equal(expected.Length, withSpecials.CountTokens(text));
            Assert.Equal(expected[1..^1], textOnly.EncodeToIds(text));
            Assert.Equal(expected.Length - 2, textOnly.CountTokens(text.AsSpan()));
            Assert.Equal(ours.Tokenize(text), textOnly.EncodeToTokens(text, out _).Select(t => t.Value));
        }
    }

    [Fact]
    public void Offsets_are_ranges_of_the_original_text_as_the_batch_encoder_gives_them()
    {
        var options = new EncodingOptions { Truncation = TruncationStrategy.None, Padding = PaddingStrategy.None };
        foreach (string text in ConformanceCorpus.Texts)
        {
            IReadOnlyList<EncodedToken> tokens = WithSpecialTokens.EncodeToTokens(text, out _);
            TokenOffset[] expected = Ours.EncodeBatch([text], options).Offsets[0];
            Assert.Equal(expected.Length, tokens.Count);
            Assert.Equal(new Range(0, 0), tokens[0].Offset);
            Assert.Equal(new Range(text.Length, text.Length), tokens[^1].Offset);
            for (int t = 1; t < tokens.Count - 1; t++)
            {
                (int start, int length) = tokens[t].Offset.GetOffsetAndLength(text.Length);
                Assert.Equal(expected[t], new TokenOffset(start, start + length));
            }
        }
    }

    [Fact]
    public void Offsets_map_back_to_the_written_substrings()
    {
        const string text = "Héllo, WORLD!  unaffable\tC++ 😍 naïve";
        IReadOnlyList<EncodedToken> tokens = TextOnly.EncodeToTokens(text, out string? normalized);
        Assert.Null(normalized);
        Assert.Equal(
            [("hello", "Héllo"), (",", ","), ("world", "WORLD"), ("!", "!"), ("una", "una"), ("##ffa", "ffa"), ("##ble", "ble"),
             ("c", "C"), ("+", "+"), ("+", "+"), ("[UNK]", "😍"), ("naive", "naïve")],
            tokens.Select(t => (t.Value, text[t.Offset])));

        // A stripped combining accent belongs to no token (as in Hugging Face's offsets); [CLS] sits at the start,
        // [SEP] at the end.
        const string combining = "cafe\u0301 is open";
        IReadOnlyList<EncodedToken> wrapped = WithSpecialTokens.EncodeToTokens(combining, out _);
        Assert.Equal(["[CLS]", "cafe", "is", "open", "[SEP]"], wrapped.Select(t => t.Value));
        Assert.Equal(["", "cafe", "is", "open", ""], wrapped.Select(t => combining[t.Offset]));
        Assert.Equal(new Range(combining.Length, combining.Length), wrapped[^1].Offset);
    }

    [Fact]
    public void Token_budgets_cut_between_words_and_count_special_tokens()
    {
        // una ##ffa ##ble | people | dance: five text tokens, seven with [CLS] and [SEP].
        const string text = "unaffable people dance";
        Assert.Equal(7, WithSpecialTokens.CountTokens(text));
        Assert.Equal(5, TextOnly.CountTokens(text));

        (int Index, int Count) Forward(Tokenizer t, int max) => (t.GetIndexByTokenCount(text, max, out _, out int count), count);
        (int Index, int Count) Backward(Tokenizer t, int max) => (t.GetIndexByTokenCountFromEnd(text, max, out _, out int count), count);

        // From the start: everything fits → the text's length; a word is never split between its pieces.
        Assert.Equal((22, 5), Forward(TextOnly, 5));
        Assert.Equal((22, 5), Forward(TextOnly, 100));
        Assert.Equal((16, 4), Forward(TextOnly, 4));
        Assert.Equal((9, 3), Forward(TextOnly, 3));
        Assert.Equal((0, 0), Forward(TextOnly, 2));
        Assert.Equal((0, 0), Forward(TextOnly, 1));

        // From the end: the first kept character; nothing fits → the text's length; everything fits → 0.
        Assert.Equal((17, 1), Backward(TextOnly, 1));
        Assert.Equal((10, 2), Backward(TextOnly, 2));
        Assert.Equal((10, 2), Backward(TextOnly, 4));
        Assert.Equal((0, 5), Backward(TextOnly, 5));

        // With [CLS] and [SEP], two tokens of every budget are theirs.
        Assert.Equal((22, 7), Forward(WithSpecialTokens, 7));
        Assert.Equal((16, 6), Forward(WithSpecialTokens, 6));
        Assert.Equal((9, 5), Forward(WithSpecialTokens, 5));
        Assert.Equal((0, 2), Forward(WithSpecialTokens, 4));
        Assert.Equal((0, 0), Forward(WithSpecialTokens, 1));
        Assert.Equal((17, 3), Backward(WithSpecialTokens, 3));
        Assert.Equal((22, 2), Backward(WithSpecialTokens, 2));
        Assert.Equal((22, 0), Backward(WithSpecialTokens, 1));

        // EncodeToIds with a maximum keeps the same tokens and reports the same cut.
        IReadOnlyList<int> ids = WithSpecialTokens.EncodeToIds(text, 6, out string? normalized, out int consumed);
        Assert.Null(normalized);
        Assert.Equal(16, consumed);
        Assert.Equal(Ours.Encode("unaffable people"), ids);
        Assert.Empty(WithSpecialTokens.EncodeToIds(text, 1, out _, out consumed));
        Assert.Equal(0, consumed);
        Assert.Equal(5, WithSpecialTokens.EncodeToTokens(text.AsSpan(), out _).Count - 2);

        Assert.Throws<ArgumentOutOfRangeException>(() => TextOnly.GetIndexByTokenCount(text, 0, out _, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => TextOnly.EncodeToIds(text, -1, out _, out _));
    }

    [Fact]
    public void Budget_edges_white_space_and_empty_text()
    {
        Assert.Equal(13, TextOnly.GetIndexByTokenCount("hello world  ", 2, out _, out int all));
        Assert.Equal(2, all);
        Assert.Equal(5, TextOnly.GetIndexByTokenCount("hello world  ", 1, out _, out int one));
        Assert.Equal(1, one);
        Assert.Equal(0, TextOnly.GetIndexByTokenCountFromEnd("  hello world", 2, out _, out _));
        Assert.Equal(8, TextOnly.GetIndexByTokenCountFromEnd("  hello world", 1, out _, out _));
        Assert.Equal(0, WithSpecialTokens.GetIndexByTokenCount("", 10, out _, out int empty));
        Assert.Equal(2, empty);
        Assert.Equal([101, 102], WithSpecialTokens.EncodeToIds("   "));
        Assert.Equal(0, TextOnly.CountTokens("\t\n "));
    }

    [Fact]
    public void Every_cut_of_the_corpus_re_encodes_to_exactly_the_kept_tokens()
    {
        // The contract callers rely on when they trim with GetIndexByTokenCount: the kept text, encoded again, gives
        // the kept tokens (a prefix or suffix of the whole), no more than the budget, and the count reported.
        foreach (Tokenizer tokenizer in new[] { WithSpecialTokens, TextOnly })
        {
            int specials = ((HuggingFaceBertTokenizer)tokenizer).AddsSpecialTokens ? 2 : 0;
            foreach (string text in ConformanceCorpus.Texts)
            {
                int[] all = [.. tokenizer.EncodeToIds(text)];
                int[] inner = all[(specials / 2)..(all.Length - (specials / 2))];
                for (int max = 1; max <= all.Length + 1; max++)
                {
                    int end = tokenizer.GetIndexByTokenCount(text, max, out _, out int headCount);
                    int[] head = [.. tokenizer.EncodeToIds(text[..end])];
                    Assert.True((head.Length == headCount || (headCount == 0 && end == 0)) && headCount <= max, $"'{HuggingFaceConformanceTests.Escape(text)}' max {max}: cut at {end} gives {head.Length} tokens, reported {headCount}");
                    if (headCount > 0)
                    {
                        Assert.Equal(inner[..(headCount - specials)], head[(specials / 2)..(head.Length - (specials / 2))]);
                    }

                    int start = tokenizer.GetIndexByTokenCountFromEnd(text, max, out _, out int tailCount);
                    int[] tail = [.. tokenizer.EncodeToIds(text[start..])];
                    Assert.True(tail.Length == tailCount || (tailCount == 0 && start == text.Length), $"'{HuggingFaceConformanceTests.Escape(text)}' max {max}: cut from {start} gives {tail.Length} tokens, reported {tailCount}");
                    Assert.True(tailCount <= max);
                    if (tailCount > 0)
                    {
                        Assert.Equal(inner[(inner.Length - (tailCount - specials))..], tail[(specials / 2)..(tail.Length - (specials / 2))]);
                    }
                }
            }
        }
    }

    [Fact]
    public void A_method_written_for_any_Tokenizer_trims_to_the_model_budget_with_Hugging_Face_ids()
    {
        string review = string.Join(" ", Enumerable.Repeat("The battery lasts for days, the unaffable clerk was great.", 80));
        Tokenizer tokenizer = Ours.AsTokenizer();
        string kept = TrimToBudget(tokenizer, review, 512);
        Assert.True(kept.Length < review.Length);
        Assert.StartsWith(kept, review, StringComparison.Ordinal);
        IReadOnlyList<int> ids = Ours.Encode(kept);
        Assert.InRange(ids.Count, 500, 512);
        Assert.Equal(ids, tokenizer.EncodeToIds(kept));
        Assert.Equal(ids.Count, tokenizer.CountTokens(kept));

        List<string> chunks = Chunk(tokenizer, review, 128);
        Assert.All(chunks, c => Assert.InRange(tokenizer.CountTokens(c), 3, 128));
        Assert.Equal(review, string.Concat(chunks));
    }

    [Fact]
    public void Normalization_and_pre_tokenization_flags_follow_the_base_contract()
    {
        Tokenizer tokenizer = TextOnly;

        // Without normalization the text is taken as already normalized: lower case matches, upper case does not.
        Assert.Equal(tokenizer.EncodeToIds("hello world"), tokenizer.EncodeToIds("hello world", considerNormalization: false));
        Assert.Equal([Ours.UnkTokenId], tokenizer.EncodeToIds("HELLO", considerNormalization: false));
        Assert.Equal([Ours.TokenToId("hello")!.Value], tokenizer.EncodeToIds("HELLO"));

        // Without pre-tokenization the text is one word; special tokens written in it still split.
        Assert.Equal(tokenizer.EncodeToIds("unaffable"), tokenizer.EncodeToIds("unaffable", considerPreTokenization: false));
        Assert.Equal([Ours.UnkTokenId], tokenizer.EncodeToIds("hello world", considerPreTokenization: false));
        IReadOnlyList<EncodedToken> split = tokenizer.EncodeToTokens("Hello[SEP]World", out _, considerPreTokenization: false);
        Assert.Equal(["hello", "[SEP]", "world"], split.Select(t => t.Value));
        Assert.Equal(["Hello", "[SEP]", "World"], split.Select(t => "Hello[SEP]World"[t.Offset]));
        Assert.Equal(Ours.Tokenize("helloworld"), tokenizer.EncodeToTokens("helloworld", out _, considerPreTokenization: false).Select(t => t.Value));
        Assert.Equal(1, tokenizer.CountTokens("HELLO", considerNormalization: false, considerPreTokenization: false));
        Assert.Null(tokenizer.Normalizer);
        Assert.Null(tokenizer.PreTokenizer);
    }

    [Fact]
    public void Decode_gives_Hugging_Face_text_and_honours_the_span_contract()
    {
        Tokenizer tokenizer = WithSpecialTokens;
        foreach (string text in ConformanceCorpus.Texts)
        {
            IReadOnlyList<int> ids = tokenizer.EncodeToIds(text);
            string expected = Ours.Decode(ids);
            Assert.Equal(expected, tokenizer.Decode(ids));
            char[] buffer = new char[expected.Length];
            Assert.Equal(OperationStatus.Done, tokenizer.Decode(ids, buffer, out int consumed, out int written));
            Assert.Equal((ids.Count, expected.Length), (consumed, written));
            Assert.Equal(expected, new string(buffer));
        }

        int[] hello = [.. Ours.Encode("Hello, world! It's fine.")];
        var small = new char[8];
        Assert.Equal(OperationStatus.DestinationTooSmall, tokenizer.Decode(hello, small, out int partIds, out int partChars));
        Assert.Equal("hello, w"[..partChars], new string(small, 0, partChars));
        Assert.Equal(Ours.Decode(hello.Take(partIds)), new string(small, 0, partChars));
        Assert.Equal("[CLS] hello [SEP]", ((HuggingFaceBertTokenizer)tokenizer).Decode(Ours.Encode("hello"), skipSpecialTokens: false));
        Assert.Equal(OperationStatus.InvalidData, tokenizer.Decode([7592, 999_999], new char[64], out int valid, out _));
        Assert.Equal(1, valid);
        Assert.Throws<InvalidOperationException>(() => tokenizer.Decode([999_999]));
    }

    // ML.NET-style code: keep the longest prefix that fits the model.
    private static string TrimToBudget(Tokenizer tokenizer, string text, int maxTokens)
    {
        int end = tokenizer.GetIndexByTokenCount(text, maxTokens, out string? normalized, out _);
        return (normalized ?? text)[..end];
    }

    // ML.NET-style chunker: consecutive pieces of at most maxTokens tokens each.
    private static List<string> Chunk(Tokenizer tokenizer, string text, int maxTokens)
    {
        var chunks = new List<string>();
        while (text.Length > 0)
        {
            int end = tokenizer.GetIndexByTokenCount(text, maxTokens, out _, out _);
            Assert.True(end > 0, "a chunk made no progress");
            chunks.Add(text[..end]);
            text = text[end..];
        }

        return chunks;
    }
}
