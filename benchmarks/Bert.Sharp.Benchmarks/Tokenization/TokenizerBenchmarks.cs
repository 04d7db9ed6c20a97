using BenchmarkDotNet.Attributes;
using Bert.Sharp.Benchmarks.Support;

namespace Bert.Sharp.Benchmarks.Tokenization;

/// <summary>
/// Tokenizing the 1,000 Amazon sentences with the bert-base-uncased vocabulary: Bert.Sharp (one by one with
/// <c>Encode</c> and with the allocation-free <c>TryEncode</c>; batches sequential and parallel, unpadded and with
/// the default padding to the longest row; through the Microsoft.ML.Tokenizers abstraction), FastBertTokenizer and
/// Microsoft.ML.Tokenizers' BertTokenizer.
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
    private Microsoft.ML.Tokenizers.Tokenizer _oursAsMl = null!;
    private readonly EncodingOptions _batchOptions = new() { Padding = PaddingStrategy.None };
    private readonly int[] _ids = new int[1024];

    [GlobalSetup]
    public void Setup()
    {
        _sentences = AmazonSentences.Load();
        string vocab = OriginalMiniLm.VocabPath;
        _ours = BertTokenizer.FromVocabulary(vocab);
        _oursAsMl = _ours.AsTokenizer();
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

    [Benchmark(Description = "Bert.Sharp as Microsoft.ML.Tokenizers.Tokenizer, EncodeToIds one by one")]
    public long BertSharpAsMlTokenizer()
    {
        long sum = 0;
        foreach (string text in _sentences)
        {
            sum += _oursAsMl.EncodeToIds(text).Count;
        }

        return sum;
    }

    [Benchmark(Description = "Bert.Sharp as Microsoft.ML.Tokenizers.Tokenizer, CountTokens one by one")]
    public long BertSharpAsMlTokenizerCount()
    {
        long sum = 0;
        foreach (string text in _sentences)
        {
            sum += _oursAsMl.CountTokens(text);
        }

        return sum;
    }

    [Benchmark(Description = "Bert.Sharp TryEncode (no allocation), one by one")]
    public long BertSharpTryEncode()
    {
        long sum = 0;
        foreach (string text in _sentences)
        {
            _ = _ours.TryEncode(text, _ids, out int written);
            sum += written;
        }

        return sum;
    }

    [Benchmark(Description = "Bert.Sharp EncodeBatch, 1 thread")]
    public int BertSharpBatchSequential() =>
        _ours.EncodeBatchCore(_sentences, null, _batchOptions, allowParallel: false).Count;

    [Benchmark(Description = "Bert.Sharp EncodeBatch, parallel")]
    public int BertSharpBatchParallel() =>
        _ours.EncodeBatchCore(_sentences, null, _batchOptions, allowParallel: true).Count;

    [Benchmark(Description = "Bert.Sharp EncodeBatch padded to longest, 1 thread")]
    public int BertSharpBatchPaddedSequential() =>
        _ours.EncodeBatchCore(_sentences, null, EncodingOptions.Default, allowParallel: false).Count;

    [Benchmark(Description = "Bert.Sharp EncodeBatch padded to longest, parallel")]
    public int BertSharpBatchPaddedParallel() =>
        _ours.EncodeBatchCore(_sentences, null, EncodingOptions.Default, allowParallel: true).Count;
}
