using Xunit.Abstractions;

namespace Bert.Sharp.Tests.Fuzzing;

/// <summary>
/// Mutation fuzzing of the tokenizer files (issue 10): <c>vocab.txt</c>, <c>tokenizer.json</c> and
/// <c>tokenizer_config.json</c> (with <c>special_tokens_map.json</c>). Every input either gives a tokenizer that encodes
/// and decodes a fixed text, or is refused with the documented exception naming the file; none hangs; managed memory
/// stays within a multiple of the file's size. <c>BERT_SHARP_FUZZ_ITERATIONS</c> sets the inputs per format.
/// </summary>
[Collection(SerialFuzzGroup.Name)]
public sealed class TokenizerFuzzTests(ITestOutputHelper output) : IDisposable
{
    // Special tokens, an added token, pieces, accents, CJK and an over-long word: every path of the encoder.
    private const string Probe = "Hello [SEP] wörld, unaffable [unused0]中 [MASK]! xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

    private readonly string dir = FuzzRunner.NewWorkDirectory("fuzz-tokenizer");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Vocab_txt_mutations_load_or_are_refused_as_invalid_data()
    {
        IReadOnlyList<byte[]> corpus = FuzzCorpus.Vocabularies();
        var runner = new FuzzRunner(
            "vocab.txt",
            Path.Combine(dir, "vocab.txt"),
            baseSeed: 3_000_000,
            corpus,
            (file, rng, log) => ByteMutator.Mutate(file, corpus, rng, log),
            path => Use(BertTokenizer.FromVocabulary(path)),
            typeof(InvalidDataException)) { WarmUp = WarmUp };
        Check(runner.Run(FuzzRunner.Iterations));
    }

    [Fact]
    public void Tokenizer_json_mutations_load_or_are_refused_as_invalid_or_unsupported()
    {
        IReadOnlyList<byte[]> corpus = FuzzCorpus.TokenizerJsons(dir);
        var runner = new FuzzRunner(
            "tokenizer.json",
            Path.Combine(dir, "tokenizer.json"),
            baseSeed: 4_000_000,
            corpus,
            (file, rng, log) => rng.Next(5) < 3 ? JsonMutator.Mutate(file, rng, log) ?? ByteMutator.Mutate(file, corpus, rng, log) : ByteMutator.Mutate(file, corpus, rng, log),
            path => Use(BertTokenizer.FromTokenizerJson(path)),
            typeof(InvalidDataException),
            typeof(NotSupportedException)) { WarmUp = WarmUp };
        Check(runner.Run(FuzzRunner.Iterations));
    }

    [Fact]
    public void Tokenizer_config_mutations_load_or_are_refused_as_invalid_data()
    {
        // A fixed vocab.txt beside the mutated tokenizer_config.json; one input in four also mutates special_tokens_map.json.
        string model = Path.Combine(dir, "model");
        Directory.CreateDirectory(model);
        File.WriteAllBytes(Path.Combine(model, "vocab.txt"), FuzzCorpus.Vocabularies()[0]);
        IReadOnlyList<byte[]> corpus = FuzzCorpus.TokenizerConfigs(dir);
        string map = Path.Combine(model, "special_tokens_map.json");
        byte[] validMap = corpus[1];
        var runner = new FuzzRunner(
            "tokenizer_config.json",
            Path.Combine(model, "tokenizer_config.json"),
            baseSeed: 5_000_000,
            corpus,
            (file, rng, log) =>
            {
                bool mapToo = rng.Next(4) == 0;
                byte[] mutated = rng.Next(5) < 3 ? JsonMutator.Mutate(file, rng, log) ?? ByteMutator.Mutate(file, corpus, rng, log) : ByteMutator.Mutate(file, corpus, rng, log);
                byte[] mapBytes = mapToo ? JsonMutator.Mutate(validMap, rng, log) ?? validMap : validMap;
                File.WriteAllBytes(map, mapBytes);
                return mutated;
            },
            path => Use(BertTokenizer.FromPretrained(Path.GetDirectoryName(path)!)),
            typeof(InvalidDataException)) { WarmUp = WarmUp };
        Check(runner.Run(FuzzRunner.Iterations));
    }

    [Fact]
    public void The_corpus_files_themselves_load()
    {
        string vocab = Path.Combine(dir, "vocab.txt");
        foreach (byte[] file in FuzzCorpus.Vocabularies())
        {
            File.WriteAllBytes(vocab, file);
            Assert.True(Use(BertTokenizer.FromVocabulary(vocab)) == 0);
        }

        string json = Path.Combine(dir, "tokenizer.json");
        foreach (byte[] file in FuzzCorpus.TokenizerJsons(dir))
        {
            File.WriteAllBytes(json, file);
            BertTokenizer tokenizer = BertTokenizer.FromTokenizerJson(json);
            Assert.Contains(tokenizer.TokenToId("[SEP]")!.Value, tokenizer.Encode(Probe).Skip(1).SkipLast(1));
        }
    }

    // Every normalization path once, so its lazily built tables are not charged to the first input that needs them.
    private void WarmUp()
    {
        string vocab = Path.Combine(dir, "warm-up-vocab.txt");
        File.WriteAllBytes(vocab, FuzzCorpus.Vocabularies()[0]);
        foreach (bool lower in new[] { true, false })
        {
            foreach (bool? strip in new bool?[] { true, false, null })
            {
                Use(BertTokenizer.FromVocabulary(vocab, new BertTokenizerOptions { DoLowerCase = lower, StripAccents = strip }));
            }
        }
    }

    // Encoding and decoding must work on whatever loaded; no native memory is involved.
    private static long Use(BertTokenizer tokenizer)
    {
        IReadOnlyList<int> ids = tokenizer.Encode(Probe, "a pair");
        tokenizer.Decode(ids);
        tokenizer.Decode(ids, skipSpecialTokens: false);
        return 0;
    }

    private void Check(FuzzResult result)
    {
        output.WriteLine(result.Summary());
        Assert.Empty(result.Hangs);
        Assert.True(result.Failures.Count == 0, $"{result.Failures.Count} failures, first: {string.Join("\n", result.Failures.Take(5))}");
        Assert.Equal(FuzzRunner.Iterations, result.Inputs);
    }
}
