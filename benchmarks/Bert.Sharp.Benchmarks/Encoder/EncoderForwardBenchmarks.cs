using BenchmarkDotNet.Attributes;
using Bert.Sharp.Benchmarks.Support;
using Bert.Sharp.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace Bert.Sharp.Benchmarks.Encoder;

/// <summary>
/// One forward pass of all-MiniLM-L6-v2 (no padding, random ids) at batch × tokens 1 × 16, 32 × 128 and 8 × 512:
/// Bert.Sharp (eval, inference mode, torch threads = cores) with each attention implementation, against ONNX Runtime
/// on the original ONNX export with the same weights and inputs. ONNX Runtime is the baseline of each shape.
/// Run: <c>dotnet run -c Release --project benchmarks/Bert.Sharp.Benchmarks -- --filter '*EncoderForward*' --job short</c>.
/// </summary>
[MemoryDiagnoser(false)]
public class EncoderForwardBenchmarks
{
    private BertModel eager = null!;
    private BertModel sdpa = null!;
    private InferenceSession session = null!;
    private Tensor ids = null!;
    private Tensor mask = null!;
    private Tensor types = null!;
    private List<NamedOnnxValue> onnxInputs = null!;

    /// <summary>Batch × tokens.</summary>
    [Params("1x16", "32x128", "8x512")]
    public string Shape { get; set; } = "32x128";

    [GlobalSetup]
    public void Setup()
    {
        (int batch, int length) = RandomIdBatch.ParseShape(Shape);
        Device device = BenchmarkDevice.Device;
        string directory = MiniLmModel.EnsureImported();
        eager = BertModel.FromPretrained(directory, new BertLoadOptions { AttentionImplementation = "eager", Device = device });
        sdpa = BertModel.FromPretrained(directory, new BertLoadOptions { AttentionImplementation = "sdpa", Device = device });

        (long[] idData, long[] maskData, long[] typeData, _, _) = RandomIdBatch.Create(batch, length);
        ids = tensor(idData, [batch, length], device: device);
        mask = tensor(maskData, [batch, length], device: device);
        types = tensor(typeData, [batch, length], device: device);

        session = OrtSessions.Create(OriginalMiniLm.OnnxPath);
        int[] dims = [batch, length];
        onnxInputs =
        [
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(idData, dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(maskData, dims)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(typeData, dims)),
        ];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        eager.Dispose();
        sdpa.Dispose();
        session.Dispose();
        ids.Dispose();
        mask.Dispose();
        types.Dispose();
    }

    [Benchmark(Baseline = true, Description = "ONNX Runtime 1.31")]
    public float OnnxRuntime()
    {
        using var results = session.Run(onnxInputs);
        return results[0].AsTensor<float>()[0, 0, 0];
    }

    [Benchmark(Description = "Bert.Sharp sdpa")]
    public float BertSharpSdpa() => Run(sdpa);

    [Benchmark(Description = "Bert.Sharp eager")]
    public float BertSharpEager() => Run(eager);

    private float Run(BertModel model)
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        BertModelOutput output = model.Forward(ids, mask, types);
        BenchmarkDevice.Synchronize();
        return output.LastHiddenState[0, 0, 0].item<float>();
    }
}
