using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Tokenization;

/// <summary>Loading and saving, id ↔ token, the Microsoft.ML.Tokenizers WordPiece reference and bad input.</summary>
public sealed class TokenizerFilesAndInputTests
{
    private static BertTokenizer Tokenizer => HuggingFaceOracle.Uncased.Ours;

    [Fact]
    public void Vocabulary_facts_of_bert_base_uncased()
    {
        Assert.Equal(30522, Tokenizer.VocabularySize);
        Assert.Equal(512, Tokenizer.ModelMaxLength);
        Assert.Equal((0, 100, 101, 102, 103), (Tokenizer.PadTokenId, Tokenizer.UnkTokenId, Tokenizer.ClsTokenId, Tokenizer.SepTokenId, Tokenizer.MaskTokenId));
        Assert.Equal("hello", Tokenizer.IdToToken(7592));
        Assert.Equal(7592, Tokenizer.TokenToId("hello"));
        Assert.Null(Tokenizer.TokenToId("not-a-token"));
        Assert.Null(Tokenizer.IdToToken(-1));
        Assert.Equal(["una", "##ffa", "##ble"], Tokenizer.Tokenize("unaffable")); // greedy longest-match, as Hugging Face
        Assert.Equal("hello world!", Tokenizer.Decode(Tokenizer.Encode("Hello World!")));
        Assert.Equal("[CLS] hello [SEP]", Tokenizer.Decode(Tokenizer.Encode("hello"), skipSpecialTokens: false));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Decode([999_999]));
    }

    [Fact]
    public void Save_then_load_round_trips_through_both_file_layouts()
    {
        string directory = TestTemp.NewDirectory("tok");
        try
        {
            BertTokenizer original = BertTokenizer.FromVocabulary(TestAssets.UncasedVocabPath, new BertTokenizerOptions { ModelMaxLength = 256 });
            original.SavePretrained(directory);
            Assert.True(File.Exists(Path.Combine(directory, "vocab.txt")));
            Assert.True(File.Exists(Path.Combine(directory, "special_tokens_map.json")));
            Assert.Empty(Directory.GetFiles(directory, "*.tmp"));

            BertTokenizer fromJson = BertTokenizer.FromPretrained(directory);
            File.Delete(Path.Combine(directory, "tokenizer.json"));
            BertTokenizer fromVocab = BertTokenizer.FromPretrained(directory);
            foreach (BertTokenizer loaded in new[] { fromJson, fromVocab })
            {
                Assert.Equal(256, loaded.ModelMaxLength);
                Assert.Equal(original.VocabularySize, loaded.VocabularySize);
                foreach (string text in ConformanceCorpus.Texts.Take(60))
                {
                    Assert.Equal(original.Encode(text), loaded.Encode(text));
                }
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Saved_tokenizer_json_is_read_by_Hugging_Face()
    {
        string directory = TestTemp.NewDirectory("tok");
        try
        {
            Tokenizer.SavePretrained(directory);
            using var hf = new Tokenizers.DotNet.Tokenizer(Path.Combine(directory, "tokenizer.json"));
            foreach (string text in ConformanceCorpus.Texts.Take(100))
            {
                Assert.Equal(Tokenizer.Encode(text), hf.Encode(HuggingFaceOracle.ReplaceLoneSurrogates(text)).Select(i => (int)i));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Reads_a_Hugging_Face_tokenizer_json_and_config_keys()
    {
        BertTokenizer cased = BertTokenizer.FromTokenizerJson(HuggingFaceOracle.Cased.TokenizerJsonPath);
        Assert.False(cased.Options.DoLowerCase);
        Assert.Equal(HuggingFaceOracle.Cased.Encode("Hello Café"), cased.Encode("Hello Café"));

        string directory = TestTemp.NewDirectory("tok");
        try
        {
            File.Copy(TestAssets.UncasedVocabPath, Path.Combine(directory, "vocab.txt"));
            File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"),
                "{\"do_lower_case\": false, \"strip_accents\": null, \"model_max_length\": 1000000000000000019884624838656, \"unk_token\": {\"content\": \"[UNK]\"}}");
            BertTokenizer loaded = BertTokenizer.FromPretrained(directory);
            Assert.False(loaded.Options.DoLowerCase);
            Assert.Equal(int.MaxValue, loaded.ModelMaxLength);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void WordPiece_step_agrees_with_Microsoft_ML_Tokenizers()
    {
        // Microsoft.ML.Tokenizers' WordPiece model is the reference for the vocabulary step: run it on our
        // pre-tokenized, normalized words with its own normalization and pre-tokenization switched off.
        var reference = Microsoft.ML.Tokenizers.WordPieceTokenizer.Create(TestAssets.UncasedVocabPath, new Microsoft.ML.Tokenizers.WordPieceOptions { PreTokenizer = null, Normalizer = null });
        string[] words = ConformanceCorpus.Texts
            .SelectMany(t => t.ToLowerInvariant().Split([' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries))
            .Where(w => w.All(char.IsAsciiLetterOrDigit))
            .Distinct()
            .ToArray();
        Assert.NotEmpty(words);
        foreach (string word in words)
        {
            IReadOnlyList<int> expected = reference.EncodeToIds(word, considerPreTokenization: false, considerNormalization: false);
            Assert.Equal(expected, Tokenizer.Encode(word).Skip(1).SkipLast(1));
        }
    }

    [Fact]
    public void TryEncode_gives_Encode_ids_without_allocating_and_reports_the_length_needed()
    {
        var buffer = new int[4096];
        foreach (string text in ConformanceCorpus.Texts)
        {
            Assert.True(Tokenizer.TryEncode(text, buffer, out int written));
            Assert.Equal(Tokenizer.Encode(text), buffer[..written]);
        }

        Assert.False(Tokenizer.TryEncode("Hello, world!", buffer.AsSpan(0, 3), out int needed));
        Assert.Equal(6, needed);
        Assert.True(Tokenizer.TryEncode(string.Empty, buffer.AsSpan(0, 2), out int empty));
        Assert.Equal(2, empty);

        // Once the per-thread scratch and the decomposition caches are warm, nothing is allocated.
        const string Mixed = "Hello, world! Ünïcödé text, 😀 and [SEP] too.";
        Tokenizer.TryEncode(Mixed, buffer, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Tokenizer.TryEncode(Mixed, buffer, out _);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Degenerate_texts_are_well_defined()
    {
        Assert.Throws<ArgumentNullException>(() => Tokenizer.Encode(null!));
        Assert.Equal([101, 102], Tokenizer.Encode(string.Empty));
        Assert.Equal([101, 102], Tokenizer.Encode(" \t\n\u3000 "));
        Assert.Equal([101, 102], Tokenizer.Encode("\uD800"));                  // lone surrogate = U+FFFD = removed
        Assert.Equal(Tokenizer.Encode("ab"), Tokenizer.Encode("a\uDC00b"));
        Assert.Throws<ArgumentException>(() => Tokenizer.EncodeBatch(["ok", null!]));
        Assert.Throws<ArgumentException>(() => Tokenizer.EncodeBatch(["a"], ["b", "c"]));
    }

    [Fact]
    public void Megabytes_of_text_and_over_long_words_encode()
    {
        // Timing belongs to the benchmarks; here, the results and that an over-long word is not stored.
        string words = string.Concat(Enumerable.Repeat("The quick brown fox, 😀 jumps! ", 80_000)); // ~2.5 MB
        string oneWord = new string('x', 3_000_000);
        Assert.Equal(2 + (80_000 * 8), Tokenizer.Encode(words).Count);
        Tokenizer.Encode("x");
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal([101, 100, 102], Tokenizer.Encode(oneWord));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < (1 << 20));
        Assert.Equal(512, Tokenizer.EncodeBatch([words]).InputIds[0].Length);
    }

    [Fact]
    public void Bad_files_give_exceptions_that_name_them()
    {
        string directory = TestTemp.NewDirectory("tok");
        try
        {
            string missing = Path.Combine(directory, "nope");
            Assert.Contains(missing, Assert.Throws<DirectoryNotFoundException>(() => BertTokenizer.FromPretrained(missing)).Message);
            string file = Path.Combine(directory, "file.txt");
            File.WriteAllText(file, "x");
            Assert.Contains("is a file", Assert.Throws<DirectoryNotFoundException>(() => BertTokenizer.FromPretrained(file)).Message);
            Assert.Throws<FileNotFoundException>(() => BertTokenizer.FromPretrained(directory));

            string vocab = Path.Combine(directory, "vocab.txt");
            File.WriteAllLines(vocab, ["[PAD]", "[CLS]", "[SEP]", "hello"]);
            var noUnk = Assert.Throws<InvalidDataException>(() => BertTokenizer.FromVocabulary(vocab));
            Assert.Contains("[UNK]", noUnk.Message);
            Assert.Contains(vocab, noUnk.Message);
            File.WriteAllLines(vocab, ["[PAD]", "[UNK]", "[SEP]"]);
            Assert.Contains("[CLS]", Assert.Throws<InvalidDataException>(() => BertTokenizer.FromVocabulary(vocab)).Message);
            File.WriteAllLines(vocab, ["[UNK]", "[CLS]", "[SEP]", "a"]);
            BertTokenizer noPad = BertTokenizer.FromVocabulary(vocab);
            Assert.Equal([1, 3, 2], noPad.Encode("a"));
            Assert.Throws<InvalidOperationException>(() => noPad.EncodeBatch(["a", "a a"]));
            File.WriteAllText(vocab, string.Empty);
            Assert.Throws<InvalidDataException>(() => BertTokenizer.FromVocabulary(vocab));

            string json = Path.Combine(directory, "tokenizer.json");
            File.WriteAllText(json, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0,, }}");
            var malformed = Assert.Throws<InvalidDataException>(() => BertTokenizer.FromTokenizerJson(json));
            Assert.Contains(json, malformed.Message);
            Assert.Contains("line 1", malformed.Message);
            File.WriteAllText(json, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": \"zero\"}}}");
            Assert.Contains("$.model.vocab[\"a\"]", Assert.Throws<InvalidDataException>(() => BertTokenizer.FromTokenizerJson(json)).Message);
            File.WriteAllText(json, "{\"model\": {\"type\": \"BPE\", \"vocab\": {}}}");
            Assert.Contains("$.model.type", Assert.Throws<NotSupportedException>(() => BertTokenizer.FromTokenizerJson(json)).Message);
            File.WriteAllText(json, "{\"version\": \"1.0\"}");
            Assert.Contains("$.model", Assert.Throws<InvalidDataException>(() => BertTokenizer.FromTokenizerJson(json)).Message);
            File.WriteAllText(json, "[1, 2]");
            Assert.Throws<InvalidDataException>(() => BertTokenizer.FromTokenizerJson(json));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
