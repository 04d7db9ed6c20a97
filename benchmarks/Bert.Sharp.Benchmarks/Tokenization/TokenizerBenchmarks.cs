using BenchmarkDotNet.Attributes;
using Bert.Sharp.Models;

namespace Bert.Sharp.Benchmarks.Tokenization;

/// <summary>
/// Tokenizing the 1,000 Amazon sentences with the bert-base-uncased vocabulary: Bert.Sharp (one by one, batch
/// sequential, batch parallel), FastBertTokenizer and Microsoft.ML.Tokenizers' BertTokenizer.
/// Run: <c>dotnet run -c Release --project benchmarks/Bert.Sharp.Benchmarks -- --filter '*TokenizerBenchmarks*'</c>.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class TokenizerBenchmarks
{
    private string[] _sentences = [];
    private BertTokenizer _ours = null!;
    private FastBertTokenizer.BertTokenizer _fast = null!;
    private Microsoft.ML.Tokenizers.BertTokenizer _ml = null!;
    private readonly EncodingOptions _batchOptions = new() { Padding = PaddingStrategy.None };

    [GlobalSetup]
    public void Setup()
    {
        _sentences = AmazonSentences.Load();
        string vocab = MiniLmResources.ExtractVocab(Path.Combine(Path.GetTempPath(), "bert-sharp-bench", "vocab.txt"));
        _ours = BertTokenizer.FromVocabulary(vocab);
        _fast = new FastBertTokenizer.BertTokenizer();
        using (var reader = new StreamReader(vocab))
        {
            _fast.LoadVocabulary(reader, true);
        }

        _ml = Microsoft.ML.Tokenizers.BertTokenizer.Create(vocab, new Microsoft.ML.Tokenizers.BertOptions { LowerCaseBeforeTokenization = true });
    }

    [Benchmark(Baseline = true, Description = "FastBertTokenizer, one by one")]
    public long FastBert()
    {
        long sum = 0;
        foreach (string text in _sentences)
        {
            sum += _fast.Encode(text, 512).InputIds.Length;
        }

        return sum;
    }

    [Benchmark(Description = "Microsoft.ML.Tokenizers BertTokenizer, one by one")]
    public long MicrosoftMl()
    {
        long sum = 0;
        foreach (string text in _sentences)
        {
            sum += _ml.EncodeToIds(text).Count;
        }

        return sum;
    }

    [Benchmark(Description = "Bert.Sharp Encode, one by one")]
    public long BertSharpSingle()
    {
        long sum = 0;
        foreach (string text in _sentences)
        {
            sum += _ours.Encode(text).Count;
        }

        return sum;
    }

    [Benchmark(Description = "Bert.Sharp EncodeBatch, 1 thread")]
    public int BertSharpBatchSequential() =>
        _ours.EncodeBatchCore(_sentences, null, _batchOptions, allowParallel: false).Count;

    [Benchmark(Description = "Bert.Sharp EncodeBatch, parallel")]
    public int BertSharpBatchParallel() =>
        _ours.EncodeBatchCore(_sentences, null, _batchOptions, allowParallel: true).Count;
}
