using Bert.Sharp.Benchmarks.Support;
using Bert.Sharp.Models;
using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace Bert.Sharp.Benchmarks.Encoder;

/// <summary>
/// Encoding all 1,000 Amazon review sentences (ragged: 3 to ~90 tokens) with all-MiniLM-L6-v2 in batches of 32, the
/// way real text arrives. ONNX Runtime is fed the usual padded batches (to the longest sentence of each batch, and to a
/// fixed 128); Bert.Sharp runs the same padded batches, then length-grouped batches, then length-grouped batches with
/// unpadded execution (token-wise layers over real tokens only). Tokenization is done in setup and not timed.
/// </summary>
public class RaggedBatchBenchmarks
{
    private const int BatchSize = 32;

    private InferenceSession session = null!;
    private BertModel model = null!;
    private List<IReadOnlyCollection<NamedOnnxValue>> ortLongest = null!;
    private List<IReadOnlyCollection<NamedOnnxValue>> ortFixed = null!;
    private List<(Tensor Ids, Tensor Mask, Tensor Types)> torchPadded = null!;
    private List<(Tensor Ids, Tensor Mask, Tensor Types)> torchGrouped = null!;

    [GlobalSetup]
    public void Setup()
    {
        Device device = BenchmarkDevice.Device;
        string directory = MiniLmModel.EnsureImported();
        var tokenizer = BertTokenizer.FromPretrained(directory);
        model = BertModel.FromPretrained(directory, new BertLoadOptions { Device = device });
        model.eval();
        session = OrtSessions.Create(OriginalMiniLm.OnnxPath);

        IReadOnlyList<string> sentences = BenchmarkData.AmazonSentences;
        IReadOnlyList<int>[] encoded = [.. sentences.Select(s => tokenizer.Encode(s))];
        int[] inOrder = [.. Enumerable.Range(0, encoded.Length)];
        int[] byLength = [.. inOrder.OrderBy(i => encoded[i].Count)];
        ortLongest = [.. Batches(inOrder).Select(b => OrtSessions.Inputs(Pad(encoded, b, null)))];
        ortFixed = [.. Batches(inOrder).Select(b => OrtSessions.Inputs(Pad(encoded, b, 128)))];
        torchPadded = [.. Batches(inOrder).Select(b => ToTensors(Pad(encoded, b, null), device))];
        torchGrouped = [.. Batches(byLength).Select(b => ToTensors(Pad(encoded, b, null), device))];
    }

    [Benchmark(Baseline = true, Description = "ONNX Runtime, padded to longest")]
    public void OnnxRuntimePaddedLongest()
    {
        foreach (var inputs in ortLongest)
        {
            using var results = session.Run(inputs);
        }
    }

    [Benchmark(Description = "ONNX Runtime, padded to 128")]
    public void OnnxRuntimePadded128()
    {
        foreach (var inputs in ortFixed)
        {
            using var results = session.Run(inputs);
        }
    }

    [Benchmark(Description = "Bert.Sharp, padded to longest")]
    public void BertSharpPaddedLongest() => RunTorch(torchPadded, unpad: false);

    [Benchmark(Description = "Bert.Sharp, padded to longest + unpadded")]
    public void BertSharpPaddedUnpadded() => RunTorch(torchPadded, unpad: true);

    [Benchmark(Description = "Bert.Sharp, length-grouped")]
    public void BertSharpLengthGrouped() => RunTorch(torchGrouped, unpad: false);

    [Benchmark(Description = "Bert.Sharp, length-grouped + unpadded")]
    public void BertSharpLengthGroupedUnpadded() => RunTorch(torchGrouped, unpad: true);

    private void RunTorch(List<(Tensor Ids, Tensor Mask, Tensor Types)> batches, bool unpad)
    {
        var options = new BertForwardOptions { Unpadding = unpad ? UnpaddingMode.Always : UnpaddingMode.Never };
        using var inference = inference_mode();
        foreach (var (ids, mask, types) in batches)
        {
            using var scope = NewDisposeScope();
            model.Forward(ids, mask, types, options);
        }

        BenchmarkDevice.Synchronize();
    }

    private static IEnumerable<int[]> Batches(int[] order) => order.Chunk(BatchSize);

    private static (long[] Ids, long[] Mask, long[] Types, int Rows, int Columns) Pad(IReadOnlyList<int>[] encoded, int[] rows, int? length)
    {
        int columns = length ?? rows.Max(r => encoded[r].Count);
        long[] ids = new long[rows.Length * columns];
        long[] mask = new long[rows.Length * columns];
        for (int r = 0; r < rows.Length; r++)
        {
            IReadOnlyList<int> row = encoded[rows[r]];
            for (int c = 0; c < Math.Min(columns, row.Count); c++)
            {
                ids[(r * columns) + c] = row[c];
                mask[(r * columns) + c] = 1;
            }
        }

        return (ids, mask, new long[ids.Length], rows.Length, columns);
    }

    private static (Tensor, Tensor, Tensor) ToTensors((long[] Ids, long[] Mask, long[] Types, int Rows, int Columns) b, Device device) =>
        (tensor(b.Ids, [b.Rows, b.Columns], device: device), tensor(b.Mask, [b.Rows, b.Columns], device: device), tensor(b.Types, [b.Rows, b.Columns], device: device));

    [GlobalCleanup]
    public void Cleanup()
    {
        session.Dispose();
        model.Dispose();
        foreach (var (ids, mask, types) in torchPadded.Concat(torchGrouped))
        {
            ids.Dispose();
            mask.Dispose();
            types.Dispose();
        }
    }
}
