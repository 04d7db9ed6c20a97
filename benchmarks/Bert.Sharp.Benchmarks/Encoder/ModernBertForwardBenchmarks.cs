using System.Text.Json;
using Bert.Sharp.Benchmarks.Support;
using Bert.Sharp.Models;
using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace Bert.Sharp.Benchmarks.Encoder;

/// <summary>
/// A ModernBERT encoder of all-MiniLM-L6-v2's size (6 layers, hidden 384, 6 heads, GeGLU 2 × 576, window 128, every third
/// layer global; random weights, 30,522 ids) over all 1,000 Amazon review sentences in batches of 32, as they arrive
/// (ragged, padded to the longest of each batch): ONNX Runtime running this library's float32 and int8 exports against the
/// TorchSharp model padded and unpadded (projections and the gated feed-forward over real tokens only), and the
/// TorchSharp model on length-grouped batches. Tokenization is done in setup and not timed.
/// </summary>
public class ModernBertForwardBenchmarks
{
    private const int BatchSize = 32;

    private string folder = null!;
    private InferenceSession session = null!;
    private InferenceSession int8Session = null!;
    private BertModel model = null!;
    private List<IReadOnlyCollection<NamedOnnxValue>> ortBatches = null!;
    private List<(Tensor Ids, Tensor Mask)> padded = null!;
    private List<(Tensor Ids, Tensor Mask)> grouped = null!;

    [GlobalSetup]
    public void Setup()
    {
        var tokenizer = BertTokenizer.FromPretrained(MiniLmModel.EnsureImported());
        folder = Path.Combine(Path.GetTempPath(), $"bert-sharp-modernbert-bench-{Environment.ProcessId}");
        using (var noGrad = no_grad())
        {
            manual_seed(7);
            using var encoder = new BertModel(Config(tokenizer.VocabularySize));
            encoder.SavePretrained(folder);
        }

        OnnxExporter.Export(folder, Path.Combine(folder, "model.onnx"));
        OnnxExporter.Export(folder, Path.Combine(folder, "model.int8.onnx"), new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8 });
        session = OrtSessions.Create(Path.Combine(folder, "model.onnx"));
        int8Session = OrtSessions.Create(Path.Combine(folder, "model.int8.onnx"));
        model = BertModel.FromPretrained(folder, new BertLoadOptions { Device = BenchmarkDevice.Device });
        model.eval();

        IReadOnlyList<int>[] encoded = [.. BenchmarkData.AmazonSentences.Select(s => tokenizer.Encode(s))];
        int[] inOrder = [.. Enumerable.Range(0, encoded.Length)];
        int[] byLength = [.. inOrder.OrderBy(i => encoded[i].Count)];
        ortBatches = [.. inOrder.Chunk(BatchSize).Select(b => OrtInputs(Pad(encoded, b)))];
        padded = [.. inOrder.Chunk(BatchSize).Select(b => ToTensors(Pad(encoded, b)))];
        grouped = [.. byLength.Chunk(BatchSize).Select(b => ToTensors(Pad(encoded, b)))];
    }

    [Benchmark(Baseline = true, Description = "ONNX Runtime (Bert.Sharp's ModernBERT export), padded to longest")]
    public void OnnxRuntimePadded()
    {
        foreach (var inputs in ortBatches)
        {
            using var results = session.Run(inputs);
        }
    }

    [Benchmark(Description = "ONNX Runtime, int8 export (defaults), padded to longest")]
    public void OnnxRuntimeInt8Padded()
    {
        foreach (var inputs in ortBatches)
        {
            using var results = int8Session.Run(inputs);
        }
    }

    [Benchmark(Description = "Bert.Sharp, padded to longest")]
    public void BertSharpPadded() => Run(padded, UnpaddingMode.Never);

    [Benchmark(Description = "Bert.Sharp, padded to longest + unpadded")]
    public void BertSharpUnpadded() => Run(padded, UnpaddingMode.Always);

    [Benchmark(Description = "Bert.Sharp, length-grouped (Auto)")]
    public void BertSharpGrouped() => Run(grouped, UnpaddingMode.Auto);

    [GlobalCleanup]
    public void Cleanup()
    {
        session.Dispose();
        int8Session.Dispose();
        model.Dispose();
        foreach ((Tensor ids, Tensor mask) in padded.Concat(grouped))
        {
            ids.Dispose();
            mask.Dispose();
        }

        Directory.Delete(folder, true);
    }

    private void Run(List<(Tensor Ids, Tensor Mask)> batches, UnpaddingMode mode)
    {
        var options = new BertForwardOptions { Unpadding = mode };
        using var inference = inference_mode();
        foreach ((Tensor ids, Tensor mask) in batches)
        {
            using var scope = NewDisposeScope();
            model.Forward(ids, mask, null, options);
        }

        BenchmarkDevice.Synchronize();
    }

    private static BertConfig Config(int vocabulary) => new()
    {
        ModelType = "modernbert",
        VocabSize = vocabulary,
        HiddenSize = 384,
        NumHiddenLayers = 6,
        NumAttentionHeads = 6,
        IntermediateSize = 576,
        MaxPositionEmbeddings = 8192,
        HiddenAct = "gelu",
        HiddenDropoutProb = 0,
        AttentionProbsDropoutProb = 0,
        LayerNormEps = 1e-5,
        PadTokenId = 0,
        TypeVocabSize = 0,
        ExtensionData = new Dictionary<string, JsonElement>
        {
            ["local_attention"] = JsonSerializer.SerializeToElement(128),
            ["global_attn_every_n_layers"] = JsonSerializer.SerializeToElement(3),
            ["global_rope_theta"] = JsonSerializer.SerializeToElement(160000.0),
            ["local_rope_theta"] = JsonSerializer.SerializeToElement(10000.0),
        },
    };

    private static (long[] Ids, long[] Mask, int Rows, int Columns) Pad(IReadOnlyList<int>[] encoded, int[] rows)
    {
        int columns = rows.Max(r => encoded[r].Count);
        long[] ids = new long[rows.Length * columns];
        long[] mask = new long[rows.Length * columns];
        for (int r = 0; r < rows.Length; r++)
        {
            for (int c = 0; c < encoded[rows[r]].Count; c++)
            {
                ids[(r * columns) + c] = encoded[rows[r]][c];
                mask[(r * columns) + c] = 1;
            }
        }

        return (ids, mask, rows.Length, columns);
    }

    private static (Tensor, Tensor) ToTensors((long[] Ids, long[] Mask, int Rows, int Columns) b) =>
        (tensor(b.Ids, [b.Rows, b.Columns], device: BenchmarkDevice.Device), tensor(b.Mask, [b.Rows, b.Columns], device: BenchmarkDevice.Device));

    private static IReadOnlyCollection<NamedOnnxValue> OrtInputs((long[] Ids, long[] Mask, int Rows, int Columns) b) =>
    [
        NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(b.Ids, [b.Rows, b.Columns])),
        NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(b.Mask, [b.Rows, b.Columns])),
    ];
}
