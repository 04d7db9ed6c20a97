using BenchmarkDotNet.Attributes;
using Bert.Sharp.Benchmarks.Support;
using static TorchSharp.torch;

namespace Bert.Sharp.Benchmarks.Training;

/// <summary>
/// fp32 against bf16 mixed precision (LibTorch autocast), with and without gradient checkpointing, for one full fine-tuning
/// step of the MiniLM shape at 32 × 128 and 8 × 512 tokens, next to the 2048³ fp32 GEMM of the same run. On a CPU without
/// AVX512_BF16/AMX the bf16 rows measure LibTorch's reference bf16 kernel (very slow), not the product's bf16 speed.
/// Peak memory per case: the <c>training-memory</c> command (one process per case).
/// </summary>
public class TrainingPrecisionBenchmarks
{
    private TrainingStepRunner runner = null!;
    private Tensor a = null!;
    private Tensor b = null!;

    /// <summary>Batch × sequence length: 32x128 and 8x512, or the comma-separated list in <c>BERT_SHARP_BENCH_SHAPES</c>.</summary>
    [ParamsSource(nameof(Shapes))]
    public string Shape { get; set; } = "32x128";

    /// <summary>Float32 and BFloat16, or the list in <c>BERT_SHARP_BENCH_PRECISIONS</c> (bf16 without AVX512_BF16 takes minutes per step).</summary>
    [ParamsSource(nameof(Precisions))]
    public TrainingPrecision Precision { get; set; }

    [Params(false, true)]
    public bool Checkpointing { get; set; }

    public static IEnumerable<string> Shapes => FromEnvironment("BERT_SHARP_BENCH_SHAPES") ?? ["32x128", "8x512"];

    public static IEnumerable<TrainingPrecision> Precisions =>
        FromEnvironment("BERT_SHARP_BENCH_PRECISIONS")?.Select(Enum.Parse<TrainingPrecision>) ?? [TrainingPrecision.Float32, TrainingPrecision.BFloat16];

    [GlobalSetup]
    public void Setup()
    {
        (int batch, int sequence) = ParseShape(Shape);
        runner = new TrainingStepRunner(batch, sequence, Precision, Checkpointing);
        if (runner.Precision.Effective != Precision)
        {
            throw new InvalidOperationException($"Asked for {Precision}, would run {runner.Precision.Effective}: {runner.Precision.Warning}");
        }

        a = randn(2048, 2048, device: BenchmarkDevice.Device);
        b = randn(2048, 2048, device: BenchmarkDevice.Device);
    }

    /// <summary>The reference rate of this run (2·2048³ FLOPs).</summary>
    [Benchmark]
    public void Gemm2048()
    {
        using Tensor c = a.matmul(b);
        BenchmarkDevice.Synchronize();
    }

    [Benchmark]
    public void TrainingStep() => runner.Step();

    [GlobalCleanup]
    public void Cleanup()
    {
        runner.Dispose();
        a.Dispose();
        b.Dispose();
    }

    private static string[]? FromEnvironment(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : null;

    internal static (int Batch, int Sequence) ParseShape(string shape)
    {
        string[] parts = shape.Split('x');
        return (int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
    }
}
