using BenchmarkDotNet.Attributes;
using Bert.Sharp.Benchmarks.Support;
using Bert.Sharp.Models;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace Bert.Sharp.Benchmarks.Deployment;

/// <summary>
/// Serving one batch of a fine-tuned classifier (all-MiniLM-L6-v2 + a mean-pooled head, as the sentiment sample trains)
/// at batch × tokens 1 × 16, 1 × 128 and 32 × 128: ONNX Runtime on the float32 export (the baseline of each shape) and on
/// the int8 export (<c>OnnxQuantization.DynamicInt8</c>), against Bert.Sharp on TorchSharp (eval, no grad, the
/// TextClassifier path), in the same run, same inputs. Setup prints the file sizes.
/// Run: <c>dotnet run -c Release --project benchmarks/Bert.Sharp.Benchmarks -- --filter '*Deployment*' --job short</c>.
/// </summary>
[MemoryDiagnoser(false)]
public class DeploymentBenchmarks
{
    private string folder = null!;
    private BertForSequenceClassification model = null!;
    private InferenceSession fp32 = null!;
    private InferenceSession int8 = null!;
    private InferenceSession int8FirstTokenRounded = null!;
    private InferenceSession int8SignedWeights = null!;
    private InferenceSession int8ReducedRange = null!;
    private Tensor ids = null!;
    private Tensor mask = null!;
    private Tensor types = null!;
    private IReadOnlyCollection<NamedOnnxValue> inputs = null!;

    /// <summary>Batch × tokens.</summary>
    [Params("1x16", "1x128", "32x128")]
    public string Shape { get; set; } = "32x128";

    [GlobalSetup]
    public void Setup()
    {
        (int batch, int length) = RandomIdBatch.ParseShape(Shape);
        folder = ExportCache.Folder("deployment-classifier");
        string fp32Path = Path.Combine(folder, "model.onnx");
        string int8Path = Path.Combine(folder, "model.int8.onnx");
        string roundedPath = Path.Combine(folder, "model.int8.first-token-rounded.onnx");
        string signedPath = Path.Combine(folder, "model.int8.signed-weights.onnx");
        string reducedPath = Path.Combine(folder, "model.int8.reduced-range.onnx");
        if (!File.Exists(int8Path) || !File.Exists(roundedPath) || !File.Exists(signedPath) || !File.Exists(reducedPath))
        {
            torch.manual_seed(1);
            using (var fresh = BertForSequenceClassification.FromPretrained(MiniLmModel.EnsureImported(), ["negative", "positive"], new ClassifierLoadOptions { Pooling = PoolingStrategy.Mean }))
            {
                fresh.SavePretrained(folder);
            }

            OnnxExporter.Export(folder, fp32Path);
            OnnxExporter.Export(folder, int8Path, new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8 });
            OnnxExporter.Export(folder, roundedPath, new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8, PreciseFirstToken = false });
            OnnxExporter.Export(folder, signedPath, new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8, Int8Format = OnnxInt8Format.SignedWeights });
            OnnxExporter.Export(folder, reducedPath, new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8, Int8Format = OnnxInt8Format.ReducedRange });
        }

        long fp32Bytes = new FileInfo(fp32Path).Length, int8Bytes = new FileInfo(int8Path).Length;
        Console.WriteLine($"// Files: model.safetensors {new FileInfo(Path.Combine(folder, "model.safetensors")).Length / 1e6:F1} MB, model.onnx (fp32) {fp32Bytes / 1e6:F1} MB, model.int8.onnx {int8Bytes / 1e6:F1} MB ({100.0 * int8Bytes / fp32Bytes:F0} % of fp32)");

        model = BertForSequenceClassification.FromPretrained(folder, null, new ClassifierLoadOptions { Device = BenchmarkDevice.Device });
        // The TextClassifier path: serving stores the linear weights column-major (from 2026-12-06; earlier tables ran row-major)
        // and packs them for few-row inputs (from 2026-12-07, third session).
        Bert.Sharp.Modeling.LinearWeightLayout.UseForServing(model, packWeights: true);
        fp32 = OrtSessions.Create(fp32Path);
        int8 = OrtSessions.Create(int8Path);
        int8FirstTokenRounded = OrtSessions.Create(roundedPath);
        int8SignedWeights = OrtSessions.Create(signedPath);
        int8ReducedRange = OrtSessions.Create(reducedPath);
        (long[] Ids, long[] Mask, long[] Types, int Rows, int Columns) data = RandomIdBatch.Create(batch, length);
        ids = tensor(data.Ids, [batch, length], device: BenchmarkDevice.Device);
        mask = tensor(data.Mask, [batch, length], device: BenchmarkDevice.Device);
        types = tensor(data.Types, [batch, length], device: BenchmarkDevice.Device);
        inputs = OrtSessions.Inputs(data);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        model.Dispose();
        fp32.Dispose();
        int8.Dispose();
        int8FirstTokenRounded.Dispose();
        int8SignedWeights.Dispose();
        int8ReducedRange.Dispose();
        ids.Dispose();
        mask.Dispose();
        types.Dispose();
    }

    [Benchmark(Baseline = true, Description = "ONNX Runtime fp32")]
    public float OnnxRuntimeFloat32() => Run(fp32);

    [Benchmark(Description = "ONNX Runtime int8")]
    public float OnnxRuntimeInt8() => Run(int8);

    /// <summary>The int8 export without <see cref="OnnxExportOptions.PreciseFirstToken"/>: what the first token's second rounding costs.</summary>
    [Benchmark(Description = "ONNX Runtime int8, first token rounded")]
    public float OnnxRuntimeInt8FirstTokenRounded() => Run(int8FirstTokenRounded);

    /// <summary>The int8 export with <see cref="OnnxInt8Format.SignedWeights"/>: u8·s8 products, 8 bits on both sides (saturates without VNNI).</summary>
    [Benchmark(Description = "ONNX Runtime int8, signed weights")]
    public float OnnxRuntimeInt8SignedWeights() => Run(int8SignedWeights);

    /// <summary>The int8 export with <see cref="OnnxInt8Format.ReducedRange"/>: u8·s8 products, 7-bit activations.</summary>
    [Benchmark(Description = "ONNX Runtime int8, reduced range")]
    public float OnnxRuntimeInt8ReducedRange() => Run(int8ReducedRange);

    [Benchmark(Description = "Bert.Sharp (TorchSharp)")]
    public float BertSharp()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor probabilities = model.Logits(ids, mask, types).softmax(-1);
        return probabilities[0, 0].cpu().item<float>();
    }

    private float Run(InferenceSession session)
    {
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run(inputs);
        return results[0].AsTensor<float>().GetValue(0);
    }
}
