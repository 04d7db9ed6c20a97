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
/// One forward pass of all-MiniLM-L6-v2 at batch 32 x 128 tokens (no padding, random ids): Bert.Sharp (eval, no_grad,
/// torch threads = cores) with each attention implementation, against ONNX Runtime on the original ONNX export.
/// Run: <c>dotnet run -c Release --project benchmarks/Bert.Sharp.Benchmarks -- --filter '*EncoderForward*' --job short</c>.
/// </summary>
[MemoryDiagnoser(false)]
public class EncoderForwardBenchmarks
{
    private const int Batch = 32;
    private const int Length = 128;

    private string directory = string.Empty;
    private string onnxPath = string.Empty;
    private BertModel eager = null!;
    private BertModel sdpa = null!;
    private InferenceSession session = null!;
    private Tensor ids = null!;
    private Tensor mask = null!;
    private Tensor types = null!;
    private List<NamedOnnxValue> onnxInputs = null!;

    [GlobalSetup]
    public void Setup()
    {
        directory = MiniLmModel.EnsureImported();
        onnxPath = MiniLmModel.OnnxPath();
        torch.set_num_threads(Environment.ProcessorCount);
        eager = BertModel.FromPretrained(directory, new BertLoadOptions { AttnImplementation = "eager" });
        sdpa = BertModel.FromPretrained(directory, new BertLoadOptions { AttnImplementation = "sdpa" });

        var random = new Random(42);
        long[] idData = Enumerable.Range(0, Batch * Length).Select(i => i % Length == 0 ? 101L : i % Length == Length - 1 ? 102L : random.Next(1000, 30522)).ToArray();
        long[] maskData = Enumerable.Repeat(1L, Batch * Length).ToArray();
        long[] typeData = new long[Batch * Length];
        ids = tensor(idData, [Batch, Length]);
        mask = tensor(maskData, [Batch, Length]);
        types = tensor(typeData, [Batch, Length]);

        session = OrtSessions.Create(onnxPath);
        int[] dims = [Batch, Length];
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
        BertOutput output = model.Forward(ids, mask, types);
        return output.LastHiddenState[0, 0, 0].item<float>();
    }
}
