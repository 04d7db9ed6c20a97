using System.Text;
using System.Text.Json.Nodes;
using Bert.Sharp.Tests.TestSupport;
using CsCheck;

namespace Bert.Sharp.Tests.Tokenization;

/// <summary>AutoTokenizer's byte-level BPE (also with NFC, NFD, NFKC, NFKD and NFKC + Lowercase normalizers) and Unigram tokenizers against Hugging Face's Rust
/// library on the multilingual corpus, pairs and random Unicode: 0 texts with other ids.</summary>
public sealed class SubwordConformanceTests
{
    private static readonly string[] Extra =
    [
        "東京は日本の首都です。今日はとても良い天気ですね。", "ｶﾀｶﾅ ＡＢＣ １２３ ① ﬁ", "e\u0301 a\u0300  spaced   out  ", "  leading and trailing  ",
        "I'm sure you've seen it, they'll say we'd", "<mask> in text <s> and </s>", "a <mask>b", "\u3000全角スペース\u3000", "😀👍🏽🎉 emoji",
        "tab\tnew\nline\r\nend", "mixed 漢字 and Latin", "\u0000\u0001 control", "北京是中国的首都。", "Привет, мир", "  ", "",

        // Canonical composition (NFC): combining sequences, reordering, blocking, exclusions, singletons, Hangul jamo.
        "cafe\u0301 nai\u0308ve", "\u212B \u2126 \u0958", "q\u0307\u0323 d\u0323\u0307 a\u0328\u0301", "\u1100\u1161\u11A8 \u1100\u1161 \uAC00\u11A8",
        "\u0041\u030A\u0301 \u00C5\u0301 e\u0301\u0301", "\u0301leading mark", "\u0B47\u0B3E \u0DD9\u0DCF", "a\u05B4\u0301\u0300 x\u0300\u0315\u0301",
        "ﬁ ﬃ ① ½ ㍿ ＡＢＣ ｶﾞ ﾊﾟ ẛ\u0323 \u1E9B\u0323 ﷺ ㈎ \u3131\u314F", // compatibility (NFKC / NFKD)
        "İSTANBUL ΣΟΦΟΣ ǅ Ǆ ẞ Ω K Å", // lower-casing (full mappings, no final sigma)
    ];

    private static readonly Gen<int> CodePoint = Gen.Frequency(
        (20, Gen.Int['a', 'z']),
        (6, Gen.Int['A', 'Z']),
        (8, Gen.OneOf(Gen.Const((int)' '), Gen.Const((int)'\t'), Gen.Const((int)'\n'), Gen.Const(0x3000), Gen.Const(0xA0))),
        (6, Gen.Int[0x21, 0x7F]),
        (4, Gen.Int[0x0, 0x1F]),
        (6, Gen.Int[0x80, 0x24F]),
        (5, Gen.Int[0x300, 0x36F]),
        (4, Gen.Int[0x370, 0x52F]),
        (3, Gen.Int[0x900, 0xE7F]),
        (3, Gen.Int[0x2000, 0x2BFF]),
        (5, Gen.Int[0x3000, 0x30FF]),
        (4, Gen.Int[0x4E00, 0x9FFF]),
        (3, Gen.Int[0xAC00, 0xD7A3]),
        (2, Gen.Int[0x1100, 0x11FF]),
        (3, Gen.Int[0xF900, 0xFFFF]),
        (4, Gen.Int[0x1F300, 0x1FAFF]),
        (2, Gen.Int[0x10000, 0x2FFFF]),
        (2, Gen.OneOf(Gen.Const(0x200B), Gen.Const(0x200D), Gen.Const(0xFE0F), Gen.Const(0xFEFF), Gen.Const(0xAD))));

    private static readonly Gen<string> Text = CodePoint.Array[0, 30].Select(cps =>
    {
        var b = new StringBuilder();
        foreach (int cp in cps)
        {
            b.Append(char.ConvertFromUtf32(cp));
        }

        return b.ToString();
    });

    public static TheoryData<string> Families => ["roberta", "xlmr", "roberta-nfc", "roberta-nfd", "roberta-nfkc", "roberta-nfkd", "roberta-nfkc-lowercase"];

    internal static SubwordOracle Oracle(string family) => family switch
    {
        "roberta" => SubwordOracle.Roberta,
        "roberta-nfc" => SubwordOracle.RobertaNfc,
        "roberta-nfd" => SubwordOracle.RobertaNfd,
        "roberta-nfkc" => SubwordOracle.RobertaNfkc,
        "roberta-nfkd" => SubwordOracle.RobertaNfkd,
        "roberta-nfkc-lowercase" => SubwordOracle.RobertaNfkcLowercase,
        _ => SubwordOracle.Xlmr,
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void Corpus_and_pairs_give_Hugging_Face_ids(string family)
    {
        SubwordOracle oracle = Oracle(family);
        string[] texts = [.. ConformanceCorpus.Texts, .. Extra];
        var failures = new List<string>();
        for (int i = 0; i < texts.Length; i++)
        {
            Compare(oracle, texts[i], null, failures);
            Compare(oracle, texts[i], texts[(i * 7 + 3) % texts.Length], failures);
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {texts.Length * 2} differ:\n{string.Join("\n", failures.Take(10))}");
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Random_unicode_gives_Hugging_Face_ids(string family)
    {
        SubwordOracle oracle = Oracle(family);
        Text.Sample(text =>
        {
            var failures = new List<string>();
            Compare(oracle, text, null, failures);
            Assert.True(failures.Count == 0, failures.FirstOrDefault());
        }, iter: 1500);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Decode_matches_Hugging_Face_and_offsets_lie_in_the_text(string family)
    {
        SubwordOracle oracle = Oracle(family);
        foreach (string text in Extra.Concat(ConformanceCorpus.Texts.Take(60)))
        {
            int[] ids = oracle.Encode(text);
            Assert.Equal(oracle.Decode(ids), oracle.Ours.Decode(ids));
            int previous = 0;
            foreach ((int _, TokenOffset o) in oracle.Ours.EncodeWithOffsets(text))
            {
                Assert.InRange(o.Start, previous, text.Length);
                Assert.InRange(o.End, o.Start, text.Length);
                previous = o.Start;
            }
        }
    }

    [Fact]
    public void AutoTokenizer_picks_the_family()
    {
        Assert.Equal(TokenizerKind.ByteLevelBpe, SubwordOracle.Roberta.Ours.Kind);
        Assert.Equal(TokenizerKind.Unigram, SubwordOracle.Xlmr.Ours.Kind);
        string folder = TestTemp.NewDirectory("auto-wp");
        File.Copy(HuggingFaceOracle.Uncased.TokenizerJsonPath, Path.Combine(folder, "tokenizer.json"));
        IPretrainedTokenizer wordPiece = AutoTokenizer.FromPretrained(folder);
        Assert.IsType<BertTokenizer>(wordPiece);
        Assert.Equal(HuggingFaceOracle.Uncased.Encode("Hello world"), wordPiece.Encode("Hello world"));
    }

    [Theory]
    [InlineData("normalizer", "{\"type\":\"Nmt\"}", "$.normalizer.type")]
    [InlineData("pre_tokenizer", "{\"type\":\"Whitespace\"}", "$.pre_tokenizer.type")]
    [InlineData("post_processor", "{\"type\":\"BertProcessing\"}", "$.post_processor.type")]
    public void Unsupported_keys_are_refused_naming_file_and_key(string key, string json, string expected)
    {
        string source = Path.Combine(SubwordOracle.Xlmr.Folder, "tokenizer.json");
        JsonNode root = JsonNode.Parse(File.ReadAllText(source))!;
        root[key] = JsonNode.Parse(json);
        string folder = TestTemp.NewDirectory("refuse");
        string path = Path.Combine(folder, "tokenizer.json");
        File.WriteAllText(path, root.ToJsonString());
        var e = Assert.Throws<NotSupportedException>(() => AutoTokenizer.FromPretrained(folder));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bpe_dropout_is_refused()
    {
        string source = Path.Combine(SubwordOracle.Roberta.Folder, "tokenizer.json");
        JsonNode root = JsonNode.Parse(File.ReadAllText(source))!;
        root["model"]!["dropout"] = 0.1;
        string folder = TestTemp.NewDirectory("refuse");
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), root.ToJsonString());
        var e = Assert.Throws<NotSupportedException>(() => AutoTokenizer.FromPretrained(folder));
        Assert.Contains("$.model.dropout", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void As_ML_tokenizer_gives_the_same_ids_without_special_tokens(string family)
    {
        SubwordOracle oracle = Oracle(family);
        Microsoft.ML.Tokenizers.Tokenizer view = oracle.Ours.AsTokenizer();
        foreach (string text in Extra)
        {
            int[] expected = [.. oracle.Ours.EncodeWithOffsets(text).Select(t => t.Id)];
            Assert.Equal(expected, view.EncodeToIds(text));
            Assert.Equal(expected.Length, view.CountTokens(text));
        }
    }

    private static void Compare(SubwordOracle oracle, string text, string? pair, List<string> failures)
    {
        int[] expected = oracle.Encode(text, pair);
        int[] actual = [.. oracle.Ours.Encode(text, pair)];
        if (!expected.SequenceEqual(actual))
        {
            failures.Add($"'{HuggingFaceConformanceTests.Escape(text)}'{(pair is null ? "" : $" + '{HuggingFaceConformanceTests.Escape(pair)}'")}: HF [{string.Join(",", expected)}] ours [{string.Join(",", actual)}]");
        }
    }
}
