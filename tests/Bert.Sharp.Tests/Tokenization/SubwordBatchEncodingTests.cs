using System.Text.Json.Nodes;
using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Tokenization;

/// <summary>
/// <see cref="SubwordTokenizer.EncodeBatch(IReadOnlyList{string}, EncodingOptions?)"/> against Hugging Face's Rust
/// tokenizer (Tokenizers.DotNet) given the same truncation and padding in its <c>tokenizer.json</c> (the Rust library applies
/// them on every encode), for the byte-level BPE and the Unigram families; then pairs, masks, offsets and refusals.
/// </summary>
public sealed class SubwordBatchEncodingTests
{
    public static TheoryData<string> Families => ["roberta", "xlmr"];

    [Theory]
    [MemberData(nameof(Families))]
    public void Unpadded_rows_are_Hugging_Face_ids(string family)
    {
        SubwordOracle oracle = SubwordConformanceTests.Oracle(family);
        SubwordTokenizer ours = WithConfig(oracle.Folder, maxLength: 100_000);
        string[] texts = [.. ConformanceCorpus.Texts];
        BatchEncoding batch = ours.EncodeBatch(texts, new EncodingOptions { Padding = PaddingStrategy.None });
        Assert.Equal(texts.Length, batch.Count);
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(oracle.Encode(texts[i]), batch.InputIds[i]);
            Assert.All(batch.AttentionMask[i], m => Assert.Equal(1, m));
        }

        BatchEncoding pairs = ours.EncodeBatch(texts[..20], texts[20..40], new EncodingOptions { Padding = PaddingStrategy.None });
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(oracle.Encode(texts[i], texts[20 + i]), pairs.InputIds[i]);
            Assert.Equal(ours.Encode(texts[i], texts[20 + i]), pairs.InputIds[i]);
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Truncation_and_fixed_padding_match_Hugging_Face(string family)
    {
        SubwordOracle oracle = SubwordConformanceTests.Oracle(family);
        SubwordTokenizer ours = WithConfig(oracle.Folder, maxLength: 100_000);
        int padId = ours.PadTokenId!.Value;
        foreach (int maxLength in new[] { 3, 7, 16, 40 })
        {
            using var reference = new Tokenizers.DotNet.Tokenizer(WithTruncationAndPadding(oracle.Folder, maxLength, padId));
            string[] texts = [.. ConformanceCorpus.Texts.Where(t => t.Length > 0).Take(80)];
            BatchEncoding batch = ours.EncodeBatch(texts, new EncodingOptions { MaxLength = maxLength, Padding = PaddingStrategy.MaxLength });
            for (int i = 0; i < texts.Length; i++)
            {
                int[] expected = [.. reference.Encode(HuggingFaceOracle.ReplaceLoneSurrogates(texts[i])).Select(id => (int)id)];
                Assert.True(expected.SequenceEqual(batch.InputIds[i]), $"max {maxLength}, text {i} '{texts[i]}': HF [{string.Join(",", expected)}], ours [{string.Join(",", batch.InputIds[i])}]");
                int real = batch.AttentionMask[i].Sum();
                Assert.Equal(Math.Min(maxLength, oracle.Encode(texts[i]).Length), real);
                Assert.All(batch.InputIds[i][real..], id => Assert.Equal(padId, id));
            }
        }
    }

    [Fact]
    public void Pairs_truncate_longest_first_with_the_template_types_masks_and_offsets()
    {
        SubwordTokenizer ours = WithConfig(SubwordOracle.Roberta.Folder, maxLength: 12);
        string question = "Where is the capital of Japan?";
        string context = "Tokyo is the capital of Japan and its largest city by far.";
        BatchEncoding batch = ours.EncodeBatch([question, "Hi"], [context, "there"]);
        Assert.True(batch.IsRectangular);
        Assert.Equal(12, batch.InputIds[0].Length);

        // <s> A </s></s> B </s>: 4 special tokens, 8 for the texts; the longer (context) gives up more.
        int[] special = batch.SpecialTokensMask[0];
        Assert.Equal(4, special.Sum());
        Assert.Equal([1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1], special);
        Assert.All(batch.TokenTypeIds[0], t => Assert.Equal(0, t)); // RobertaProcessing: one token type

        // Offsets of the first part index the question, of the second the context; special tokens have none.
        IReadOnlyList<(int Id, TokenOffset Offset)> q = ours.EncodeWithOffsets(question);
        IReadOnlyList<(int Id, TokenOffset Offset)> c = ours.EncodeWithOffsets(context);
        Assert.Equal(q.Take(4).Select(p => p.Offset), batch.Offsets[0][1..5]);
        Assert.Equal(c.Take(4).Select(p => p.Offset), batch.Offsets[0][7..11]);
        Assert.Equal(default, batch.Offsets[0][0]);

        // The short pair is padded to the batch's longest row with <pad>, masked out and marked special.
        int real = batch.AttentionMask[1].Sum();
        Assert.True(real < 12);
        Assert.All(batch.InputIds[1][real..], id => Assert.Equal(ours.PadTokenId, id));
        Assert.All(batch.SpecialTokensMask[1][real..], m => Assert.Equal(1, m));
    }

    [Fact]
    public void Overflow_windows_cover_the_text_with_the_stride()
    {
        SubwordTokenizer ours = WithConfig(SubwordOracle.Roberta.Folder, maxLength: 10);
        string text = string.Join(' ', ConformanceCorpus.Texts.Take(6));
        int[] all = [.. ours.EncodeWithOffsets(text).Select(p => p.Id)];
        BatchEncoding batch = ours.EncodeBatch([text], new EncodingOptions { ReturnOverflowingTokens = true, Stride = 3 });
        Assert.True(batch.Count > 1);
        Assert.All(batch.OverflowToSampleMapping, s => Assert.Equal(0, s));
        var rebuilt = new List<int>();
        for (int r = 0; r < batch.Count; r++)
        {
            int[] tokens = [.. batch.InputIds[r].Where((_, k) => batch.SpecialTokensMask[r][k] == 0)];
            rebuilt.AddRange(r == 0 ? tokens : tokens.Skip(3));
        }

        Assert.Equal(all, rebuilt);
    }

    [Fact]
    public void Without_a_pad_token_padding_is_refused_and_ragged_batches_work()
    {
        SubwordTokenizer ours = (SubwordTokenizer)AutoTokenizer.FromPretrained(SubwordOracle.Roberta.Folder);
        Assert.Null(ours.PadTokenId);
        Assert.Equal(int.MaxValue, ours.ModelMaxLength);
        var error = Assert.Throws<InvalidOperationException>(() => ours.EncodeBatch(["a", "a longer text"]));
        Assert.Contains("pad_token", error.Message, StringComparison.Ordinal);
        BatchEncoding ragged = ours.EncodeBatch(["a", "a longer text"], new EncodingOptions { Padding = PaddingStrategy.None });
        Assert.False(ragged.IsRectangular);
        Assert.Throws<ArgumentException>(() => ours.EncodeBatch(["a"], new EncodingOptions { Padding = PaddingStrategy.MaxLength }));
        Assert.Throws<ArgumentException>(() => ours.EncodeBatch(["a", null!]));
        Assert.Throws<ArgumentException>(() => ours.EncodeBatch(["a"], ["b", "c"]));
        Assert.Equal(0, ours.EncodeBatch([]).Count);
    }

    [Fact]
    public void A_pad_token_the_vocabulary_lacks_or_a_malformed_config_is_refused_naming_the_file()
    {
        string folder = CopyWithConfig(SubwordOracle.Roberta.Folder, new JsonObject { ["pad_token"] = "<nothing-like-this>" });
        Assert.Contains("tokenizer_config.json", Assert.Throws<InvalidDataException>(() => AutoTokenizer.FromPretrained(folder)).Message, StringComparison.Ordinal);
        folder = CopyWithConfig(SubwordOracle.Roberta.Folder, new JsonObject { ["pad_token"] = 5 });
        Assert.Contains("pad_token", Assert.Throws<InvalidDataException>(() => AutoTokenizer.FromPretrained(folder)).Message, StringComparison.Ordinal);
        folder = CopyWithConfig(SubwordOracle.Roberta.Folder, new JsonObject { ["model_max_length"] = -3 });
        Assert.Contains("model_max_length", Assert.Throws<InvalidDataException>(() => AutoTokenizer.FromPretrained(folder)).Message, StringComparison.Ordinal);

        // An AddedToken object, as transformers writes it, is read by its content.
        folder = CopyWithConfig(SubwordOracle.Roberta.Folder, new JsonObject { ["pad_token"] = new JsonObject { ["content"] = "<pad>", ["special"] = true } });
        Assert.NotNull(((SubwordTokenizer)AutoTokenizer.FromPretrained(folder)).PadTokenId);
    }

    [Fact]
    public void AutoTokenizer_gives_batches_for_every_family_through_the_interface()
    {
        IPretrainedTokenizer subword = WithConfig(SubwordOracle.Xlmr.Folder, maxLength: 8);
        IPretrainedTokenizer wordPiece = AutoTokenizer.FromPretrained(Path.GetDirectoryName(TestAssets.UncasedVocabPath)!);
        foreach (IPretrainedTokenizer tokenizer in new[] { subword, wordPiece })
        {
            BatchEncoding batch = tokenizer.EncodeBatch(["東京は日本の首都です。今日はとても良い天気ですね。", "短い"], new EncodingOptions { MaxLength = 8 });
            Assert.True(batch.IsRectangular);
            Assert.Equal(8, batch.InputIds[0].Length);
        }
    }

    private static SubwordTokenizer WithConfig(string folder, int maxLength) =>
        (SubwordTokenizer)AutoTokenizer.FromPretrained(CopyWithConfig(folder, new JsonObject { ["pad_token"] = "<pad>", ["model_max_length"] = maxLength }));

    private static string CopyWithConfig(string folder, JsonObject config)
    {
        string copy = TestTemp.NewDirectory("subword-batch");
        File.Copy(Path.Combine(folder, "tokenizer.json"), Path.Combine(copy, "tokenizer.json"));
        File.WriteAllText(Path.Combine(copy, "tokenizer_config.json"), config.ToJsonString());
        return copy;
    }

    // The folder's tokenizer.json with Hugging Face's truncation (longest first, right) and fixed padding to maxLength.
    private static string WithTruncationAndPadding(string folder, int maxLength, int padId)
    {
        JsonObject root = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "tokenizer.json")))!.AsObject();
        root["truncation"] = new JsonObject { ["direction"] = "Right", ["max_length"] = maxLength, ["strategy"] = "LongestFirst", ["stride"] = 0 };
        root["padding"] = new JsonObject
        {
            ["strategy"] = new JsonObject { ["Fixed"] = maxLength },
            ["direction"] = "Right",
            ["pad_to_multiple_of"] = null,
            ["pad_id"] = padId,
            ["pad_type_id"] = 0,
            ["pad_token"] = "<pad>",
        };
        string path = Path.Combine(TestTemp.NewDirectory("subword-hf-truncation"), "tokenizer.json");
        File.WriteAllText(path, root.ToJsonString());
        return path;
    }
}
