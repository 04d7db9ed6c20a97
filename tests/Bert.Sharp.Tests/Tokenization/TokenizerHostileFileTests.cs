using Bert.Sharp.Tests.TestSupport;
using Bert.Sharp.Tokenization;

namespace Bert.Sharp.Tests.Tokenization;

/// <summary>
/// Tokenizer files that used to overflow or allocate gigabytes (issue 10, item 7), and malformed values that used to
/// escape as <see cref="InvalidOperationException"/>: each is refused with an <see cref="InvalidDataException"/> naming
/// the file.
/// </summary>
public sealed class TokenizerHostileFileTests : IDisposable
{
    private readonly string dir = TestTemp.NewDirectory("tokhostile");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string JsonPath => Path.Combine(dir, "tokenizer.json");

    [Theory]
    [InlineData(2_000_000_000)]
    [InlineData(int.MaxValue)]
    [InlineData(5_000)]
    public void A_token_id_far_beyond_the_entry_count_is_refused_without_allocating_the_table(int id)
    {
        File.WriteAllText(JsonPath, Vocab($"\"[UNK]\": 0, \"[CLS]\": 1, \"[SEP]\": 2, \"far\": {id}"));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => BertTokenizer.FromTokenizerJson(JsonPath));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < (4 << 20));
        Assert.Contains(JsonPath, e.Message, StringComparison.Ordinal);
        Assert.Contains($"the largest token id is {id} for 4 tokens", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gaps_within_the_slack_still_load()
    {
        File.WriteAllText(JsonPath, Vocab("\"[UNK]\": 0, \"[CLS]\": 1, \"[SEP]\": 2, \"[PAD]\": 1000"));
        BertTokenizer tokenizer = BertTokenizer.FromTokenizerJson(JsonPath);
        Assert.Equal(1001, tokenizer.VocabularySize);
        Assert.Equal(1000, tokenizer.PadTokenId);
    }

    [Theory]
    [InlineData("tokenizer.json", 256L << 20)]
    [InlineData("vocab.txt", 256L << 20)]
    [InlineData("tokenizer_config.json", 16L << 20)]
    [InlineData("special_tokens_map.json", 16L << 20)]
    public void Files_over_their_size_cap_are_refused_unread(string name, long cap)
    {
        File.WriteAllLines(Path.Combine(dir, "vocab.txt"), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
        string path = Path.Combine(dir, name);
        using (FileStream stream = File.Open(path, FileMode.Create))
        {
            stream.SetLength(cap + 1); // sparse: no disk used
        }

        var e = Assert.Throws<InvalidDataException>(() => BertTokenizer.FromPretrained(dir));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains($"read up to {cap} bytes", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"post_processor\": {\"type\": \"BertProcessing\", \"cls\": [101, \"[CLS]\"], \"sep\": [\"[SEP]\", 102]}", "$.post_processor.cls[0] must be a token string")]
    [InlineData("\"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": 5}]}", "$.post_processor.single[0].SpecialToken must be a JSON object")]
    [InlineData("\"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": 101}}]}", "$.post_processor.single[0].SpecialToken.id must be a string")]
    [InlineData("\"normalizer\": 5", "$.normalizer must be a JSON object")]
    [InlineData("\"pre_tokenizer\": [1]", "$.pre_tokenizer must be a JSON object")]
    [InlineData("\"added_tokens\": [7]", "$.added_tokens[0].content is missing")]
    public void Malformed_values_are_invalid_data_naming_the_json_path(string extra, string expected)
    {
        File.WriteAllText(JsonPath, Vocab("\"[UNK]\": 0, \"[CLS]\": 1, \"[SEP]\": 2", extra));
        var e = Assert.Throws<InvalidDataException>(() => BertTokenizer.FromTokenizerJson(JsonPath));
        Assert.Contains(JsonPath, e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"type\": \"TemplateProcessing\", \"single\": [{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], \"pair\": null}", "$.post_processor.single is $A:0")]
    [InlineData("{\"type\": \"TemplateProcessing\", \"single\": [" + Cls + ", " + SeqA + ", " + Sep + "], \"pair\": [" + Cls + ", " + SeqA + ", " + Sep + ", {\"Sequence\": {\"id\": \"B\", \"type_id\": 0}}, " + Sep + "]}", "$.post_processor.pair is [CLS]:0 $A:0 [SEP]:0 $B:0 [SEP]:0")]
    [InlineData("{\"type\": \"TemplateProcessing\", \"single\": [" + Cls + ", " + SeqA + ", " + Sep + "], \"special_tokens\": {\"[CLS]\": {\"id\": \"[CLS]\", \"ids\": [7], \"tokens\": [\"[CLS]\"]}}}", "$.post_processor.special_tokens[\"[CLS]\"].ids is [7]")]
    [InlineData("{\"type\": \"BertProcessing\", \"cls\": [\"[CLS]\", 9], \"sep\": [\"[SEP]\", 2]}", "$.post_processor.cls gives '[CLS]' the id 9")]
    [InlineData("{\"type\": \"ByteLevel\"}", "$.post_processor.type is 'ByteLevel'")]
    public void A_post_processor_that_adds_other_ids_than_bert_is_refused_naming_the_key(string postProcessor, string expected)
    {
        // The tokenizers library would add these ids; BertTokenizer adds [CLS] $A [SEP] (pairs: $B and its [SEP] of type 1).
        File.WriteAllText(JsonPath, Vocab("\"[UNK]\": 0, \"[CLS]\": 1, \"[SEP]\": 2", "\"post_processor\": " + postProcessor));
        var e = Assert.Throws<NotSupportedException>(() => BertTokenizer.FromTokenizerJson(JsonPath));
        Assert.Contains(JsonPath, e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Berts_own_template_with_the_vocabularys_ids_is_read()
    {
        string template = "{\"type\": \"TemplateProcessing\", \"single\": [" + Cls + ", " + SeqA + ", " + Sep + "], \"pair\": [" + Cls + ", " + SeqA + ", " + Sep + ", {\"Sequence\": {\"id\": \"B\", \"type_id\": 1}}, {\"SpecialToken\": {\"id\": \"[SEP]\", \"type_id\": 1}}], "
            + "\"special_tokens\": {\"[CLS]\": {\"id\": \"[CLS]\", \"ids\": [1], \"tokens\": [\"[CLS]\"]}, \"[SEP]\": {\"id\": \"[SEP]\", \"ids\": [2], \"tokens\": [\"[SEP]\"]}}}";
        File.WriteAllText(JsonPath, Vocab("\"[UNK]\": 0, \"[CLS]\": 1, \"[SEP]\": 2, \"a\": 3", "\"post_processor\": " + template));
        Assert.Equal([1, 3, 2], BertTokenizer.FromTokenizerJson(JsonPath).Encode("a"));
    }

    private const string Cls = "{\"SpecialToken\": {\"id\": \"[CLS]\", \"type_id\": 0}}";
    private const string Sep = "{\"SpecialToken\": {\"id\": \"[SEP]\", \"type_id\": 0}}";
    private const string SeqA = "{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}";

    [Theory]
    [InlineData(100_000_000)]
    [InlineData(int.MaxValue)]
    public void A_huge_max_input_chars_per_word_allocates_only_what_words_need(int limit)
    {
        // Found by the fuzzer: 10^8 preallocated five word buffers of 2·10^8 entries (3.6 GB); int.MaxValue overflowed.
        File.WriteAllText(JsonPath, Vocab("\"[UNK]\": 0, \"[CLS]\": 1, \"[SEP]\": 2, \"a\": 3, \"##a\": 4").Replace("\"unk_token\"", $"\"max_input_chars_per_word\": {limit}, \"unk_token\"", StringComparison.Ordinal));
        BertTokenizer tokenizer = BertTokenizer.FromTokenizerJson(JsonPath);
        string text = "a " + new string('a', 5_000);
        tokenizer.Encode("a");
        long before = GC.GetAllocatedBytesForCurrentThread();
        IReadOnlyList<int> ids = tokenizer.Encode(text);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < (2 << 20));
        Assert.Equal(2 + 1 + 5_000, ids.Count); // a, then a ##a ##a ... : the long word is split, not [UNK]
    }

    [Fact]
    public void A_vocabulary_that_overflowed_the_save_buffer_size_saves()
    {
        // Count * 8 used to be computed in int; the capacity is now computed in long and capped.
        File.WriteAllText(JsonPath, Vocab("\"[UNK]\": 0, \"[CLS]\": 1, \"[SEP]\": 2"));
        BertTokenizer tokenizer = BertTokenizer.FromTokenizerJson(JsonPath);
        string saved = Path.Combine(dir, "saved");
        tokenizer.SavePretrained(saved);
        Assert.Equal(["[UNK]", "[CLS]", "[SEP]"], File.ReadAllLines(Path.Combine(saved, TokenizerFiles.VocabFile)));
    }

    private static string Vocab(string entries, string? extra = null) =>
        "{\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", \"vocab\": {" + entries + "}}" + (extra is null ? string.Empty : ", " + extra) + "}";
}
