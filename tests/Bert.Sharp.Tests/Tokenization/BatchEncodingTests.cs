using System.Text.Json.Nodes;
using Bert.Sharp.Tests.TestSupport;
using Bert.Sharp.Tokenization;
using TorchSharp;

namespace Bert.Sharp.Tests.Tokenization;

/// <summary>Padding, truncation, overflow windows, pairs, masks, offsets and tensors.</summary>
public sealed class BatchEncodingTests
{
    private static BertTokenizer Tokenizer => HuggingFaceOracle.Uncased.Ours;

    [Fact]
    public void Pads_to_longest_with_masks_types_and_special_mask()
    {
        BatchEncoding batch = Tokenizer.EncodeBatch(["Hello world!", "Hi"]);
        Assert.Equal(2, batch.Count);
        Assert.True(batch.IsRectangular);
        Assert.Equal([101, 7592, 2088, 999, 102], batch.InputIds[0]);
        Assert.Equal([101, 7632, 102, 0, 0], batch.InputIds[1]);
        Assert.Equal([1, 1, 1, 0, 0], batch.AttentionMask[1]);
        Assert.Equal([0, 0, 0, 0, 0], batch.TokenTypeIds[1]);
        Assert.Equal([1, 0, 0, 0, 1], batch.SpecialTokensMask[0]);
        Assert.Equal([1, 0, 1, 1, 1], batch.SpecialTokensMask[1]);
        Assert.Equal(new TokenOffset(0, 5), batch.Offsets[0][1]);
        Assert.Equal(new TokenOffset(6, 11), batch.Offsets[0][2]);
        Assert.Equal(new TokenOffset(11, 12), batch.Offsets[0][3]);
        Assert.Equal(default, batch.Offsets[0][0]);
    }

    [Fact]
    public void Pairs_get_token_types_and_offsets_into_their_own_text()
    {
        BatchEncoding batch = Tokenizer.EncodeBatch(["Who?"], ["Me."]);
        Assert.Equal([101, 2040, 1029, 102, 2033, 1012, 102], batch.InputIds[0]);
        Assert.Equal([0, 0, 0, 0, 1, 1, 1], batch.TokenTypeIds[0]);
        Assert.Equal([1, 0, 0, 1, 0, 0, 1], batch.SpecialTokensMask[0]);
        Assert.Equal(new TokenOffset(0, 2), batch.Offsets[0][4]);
        Assert.Equal(Tokenizer.Encode("Who?", "Me."), batch.InputIds[0]);
    }

    [Fact]
    public void No_padding_gives_a_ragged_batch_that_refuses_tensors()
    {
        BatchEncoding batch = Tokenizer.EncodeBatch(["a b c", "a"], new EncodingOptions { Padding = PaddingStrategy.None });
        Assert.Equal(5, batch.InputIds[0].Length);
        Assert.Equal(3, batch.InputIds[1].Length);
        Assert.False(batch.IsRectangular);
        Assert.Throws<InvalidOperationException>(() => batch.ToTensors());
    }

    [Fact]
    public void Max_length_padding_and_multiple_of()
    {
        BatchEncoding fixedLength = Tokenizer.EncodeBatch(["a b"], new EncodingOptions { Padding = PaddingStrategy.MaxLength, MaxLength = 16 });
        Assert.Equal(16, fixedLength.InputIds[0].Length);
        BatchEncoding multiple = Tokenizer.EncodeBatch(["a b c d e"], new EncodingOptions { PadToMultipleOf = 8 });
        Assert.Equal(8, multiple.InputIds[0].Length);
        Assert.Equal(0, multiple.InputIds[0][7]);
    }

    [Fact]
    public void Truncates_to_model_max_length_by_default()
    {
        string longText = string.Join(" ", Enumerable.Repeat("word", 2000));
        BatchEncoding batch = Tokenizer.EncodeBatch([longText]);
        Assert.Equal(512, batch.InputIds[0].Length);
        Assert.Equal(102, batch.InputIds[0][^1]);
        Assert.Equal(2002, Tokenizer.Encode(longText).Count);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(20)]
    public void Single_truncation_matches_Hugging_Face(int maxLength)
    {
        // Hugging Face's truncation, configured in its tokenizer.json, against ours.
        JsonNode json = JsonNode.Parse(File.ReadAllText(HuggingFaceOracle.Uncased.TokenizerJsonPath))!;
        json["truncation"] = new JsonObject { ["direction"] = "Right", ["max_length"] = maxLength, ["strategy"] = "LongestFirst", ["stride"] = 0 };
        string path = Path.Combine(TestTemp.NewDirectory("trunc"), "tokenizer.json");
        File.WriteAllText(path, json.ToJsonString());
        using var hf = new Tokenizers.DotNet.Tokenizer(path);
        foreach (string text in ConformanceCorpus.Texts.Take(80))
        {
            int[] expected = hf.Encode(HuggingFaceOracle.ReplaceLoneSurrogates(text)).Select(i => (int)i).ToArray();
            BatchEncoding ours = Tokenizer.EncodeBatch([text], new EncodingOptions { MaxLength = maxLength, Padding = PaddingStrategy.None });
            Assert.Equal(expected, ours.InputIds[0]);
        }
    }

    [Fact]
    public void Longest_first_splits_like_Hugging_Face()
    {
        // The expectations of Hugging Face's own truncate_encodings_longest_first test (budget 7).
        int[] lengths = [0, 2, 4, 8];
        int[,] expectedA = { { 0, 0, 0, 0 }, { 2, 2, 2, 2 }, { 4, 4, 3, 3 }, { 7, 5, 4, 3 } };
        int[,] expectedB = { { 0, 2, 4, 7 }, { 0, 2, 4, 5 }, { 0, 2, 4, 4 }, { 0, 2, 3, 4 } };
        for (int a = 0; a < 4; a++)
        {
            for (int b = 0; b < 4; b++)
            {
                int la = lengths[a];
                int lb = lengths[b];
                (int keepA, int keepB) = la + lb <= 7 ? (la, lb) : SequenceAssembler.LongestFirst(la, lb, 7);
                Assert.Equal((expectedA[a, b], expectedB[a, b]), (keepA, keepB));
            }
        }
    }

    [Fact]
    public void Only_second_truncation_keeps_the_question()
    {
        string context = string.Join(" ", Enumerable.Repeat("context", 50));
        BatchEncoding batch = Tokenizer.EncodeBatch(["what is it?"], [context], new EncodingOptions { Truncation = TruncationStrategy.OnlySecond, MaxLength = 20 });
        Assert.Equal(20, batch.InputIds[0].Length);
        Assert.Equal(Tokenizer.Encode("what is it?").Take(5), batch.InputIds[0].Take(5));
        Assert.Throws<InvalidOperationException>(() =>
            Tokenizer.EncodeBatch([context], ["short"], new EncodingOptions { Truncation = TruncationStrategy.OnlySecond, MaxLength = 20 }));
        Assert.Throws<InvalidOperationException>(() =>
            Tokenizer.EncodeBatch([context], new EncodingOptions { Truncation = TruncationStrategy.OnlySecond, MaxLength = 20 }));
    }

    [Fact]
    public void Overflow_windows_with_stride_cover_the_document()
    {
        string text = string.Join(" ", Enumerable.Range(0, 30).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        int[] all = Tokenizer.Encode(text).Skip(1).SkipLast(1).ToArray();
        BatchEncoding batch = Tokenizer.EncodeBatch(["x", text], new EncodingOptions { MaxLength = 12, ReturnOverflowingTokens = true, Stride = 3 });
        Assert.Equal([0, 1, 1, 1, 1], batch.OverflowToSampleMapping);
        int[][] windows = batch.InputIds.Skip(1).Select(r => r.Where((id, i) => batch.AttentionMask[batch.InputIds.ToList().IndexOf(r)][i] == 1).ToArray()).ToArray();
        Assert.Equal(all.Take(10), windows[0].Skip(1).SkipLast(1));
        Assert.Equal(all.Skip(7).Take(10), windows[1].Skip(1).SkipLast(1));
        Assert.Equal(all.Skip(21), windows[3].Skip(1).SkipLast(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.EncodeBatch([text], new EncodingOptions { MaxLength = 12, ReturnOverflowingTokens = true, Stride = 10 }));
    }

    [Fact]
    public void To_tensors_gives_int64_batch_by_sequence()
    {
        BatchEncoding batch = Tokenizer.EncodeBatch(["Hello world!", "Hi"], ["pair", "other pair text"]);
        using BertInputTensors tensors = batch.ToTensors(torch.CPU);
        Assert.Equal(torch.ScalarType.Int64, tensors.InputIds.dtype);
        Assert.Equal([2L, batch.InputIds[0].Length], tensors.InputIds.shape);
        Assert.Equal(batch.InputIds[1].Select(i => (long)i), tensors.InputIds[1].data<long>().ToArray());
        Assert.Equal(batch.AttentionMask[1].Select(i => (long)i), tensors.AttentionMask[1].data<long>().ToArray());
        Assert.Equal(batch.TokenTypeIds[0].Select(i => (long)i), tensors.TokenTypeIds[0].data<long>().ToArray());
    }

    [Fact]
    public void Parallel_batch_equals_one_by_one_encoding()
    {
        string[] texts = Enumerable.Range(0, 500).Select(i => ConformanceCorpus.Texts[i % ConformanceCorpus.Texts.Count]).ToArray();
        BatchEncoding batch = Tokenizer.EncodeBatch(texts, new EncodingOptions { Padding = PaddingStrategy.None, Truncation = TruncationStrategy.None });
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(Tokenizer.Encode(texts[i]), batch.InputIds[i]);
        }
    }

    public static TheoryData<string, bool> BatchOptionSets => new()
    {
        { "longest", false }, { "longest", true }, { "none", false }, { "none", true }, { "max-length", false },
        { "max-length", true }, { "multiple-of", false }, { "overflow", false }, { "overflow", true },
    };

    [Theory]
    [MemberData(nameof(BatchOptionSets))]
    public void Parallel_and_sequential_batches_agree_field_by_field(string optionSet, bool withPairs)
    {
        // Parallel batches take different paths (one pass for fixed padding, two for padding to the longest row);
        // every field must match the sequential batch, and every row the single-text encoding.
        EncodingOptions options = optionSet switch
        {
            "longest" => new EncodingOptions { Truncation = TruncationStrategy.None },
            "none" => new EncodingOptions { Padding = PaddingStrategy.None, Truncation = TruncationStrategy.None },
            "max-length" => new EncodingOptions { Padding = PaddingStrategy.MaxLength, MaxLength = 600, Truncation = TruncationStrategy.None },
            "multiple-of" => new EncodingOptions { PadToMultipleOf = 8, Truncation = TruncationStrategy.None },
            _ => new EncodingOptions { MaxLength = 40, Stride = 4, ReturnOverflowingTokens = true, Truncation = withPairs ? TruncationStrategy.OnlySecond : TruncationStrategy.LongestFirst },
        };
        string[] texts = [.. Enumerable.Range(0, 300).Select(i => ConformanceCorpus.Texts[i % ConformanceCorpus.Texts.Count])];
        string[]? pairs = withPairs ? [.. Enumerable.Range(0, 300).Select(i => ConformanceCorpus.Texts[(i * 7) % ConformanceCorpus.Texts.Count])] : null;
        if (withPairs && optionSet == "overflow")
        {
            texts = [.. texts.Select(t => t.Length > 12 ? t[..12] : t)]; // the question must fit: only the passage overflows
        }

        BatchEncoding parallel = Tokenizer.EncodeBatchCore(texts, pairs, options, allowParallel: true);
        BatchEncoding sequential = Tokenizer.EncodeBatchCore(texts, pairs, options, allowParallel: false);
        Assert.Equal(sequential.Count, parallel.Count);
        Assert.Equal(sequential.OverflowToSampleMapping, parallel.OverflowToSampleMapping);
        for (int r = 0; r < sequential.Count; r++)
        {
            Assert.Equal(sequential.InputIds[r], parallel.InputIds[r]);
            Assert.Equal(sequential.AttentionMask[r], parallel.AttentionMask[r]);
            Assert.Equal(sequential.TokenTypeIds[r], parallel.TokenTypeIds[r]);
            Assert.Equal(sequential.SpecialTokensMask[r], parallel.SpecialTokensMask[r]);
            Assert.Equal(sequential.Offsets[r], parallel.Offsets[r]);
        }

        if (optionSet != "overflow")
        {
            Assert.Equal(texts.Length, parallel.Count);
            for (int i = 0; i < texts.Length; i++)
            {
                int[] expected = [.. Tokenizer.Encode(texts[i], pairs?[i])];
                int length = expected.Length;
                int firstSep = Tokenizer.Encode(texts[i]).Count - 1; // not a search: texts may hold "[SEP]" themselves
                Assert.Equal(expected, parallel.InputIds[i][..length]);
                Assert.All(parallel.InputIds[i][length..], id => Assert.Equal(0, id));
                Assert.Equal([.. Enumerable.Range(0, parallel.InputIds[i].Length).Select(t => t < length ? 1 : 0)], parallel.AttentionMask[i]);
                Assert.Equal([.. Enumerable.Range(0, parallel.InputIds[i].Length).Select(t => t > firstSep && t < length ? 1 : 0)], parallel.TokenTypeIds[i]);
                Assert.Equal(
                    [.. Enumerable.Range(0, parallel.InputIds[i].Length).Select(t => t == 0 || t == firstSep || t >= length - 1 ? 1 : 0)],
                    parallel.SpecialTokensMask[i]);
            }
        }
    }

    [Fact]
    public void Concurrent_encode_calls_agree()
    {
        IReadOnlyList<string> texts = ConformanceCorpus.Texts;
        int[][] expected = texts.Select(t => Tokenizer.Encode(t).ToArray()).ToArray();
        Parallel.For(0, 4000, i =>
        {
            int k = i % texts.Count;
            Assert.Equal(expected[k], Tokenizer.Encode(texts[k]));
        });
    }
}
