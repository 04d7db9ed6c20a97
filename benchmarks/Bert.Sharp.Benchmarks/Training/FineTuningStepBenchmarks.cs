using Bert.Sharp.Benchmarks.Support;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using static TorchSharp.torch;

namespace Bert.Sharp.Benchmarks.Training;

/// <summary>
/// One full fine-tuning step (forward, backward, AdamW) of an all-MiniLM-L6-v2-shaped BERT plus a linear head at
/// batch 32 × 128 tokens, next to a plain fp32 GEMM of 2048³ measured in the same run: the GFLOP/s column shows how
/// close training gets to what this machine's matrix multiply can do. Weights are random (speed does not depend on them).
/// </summary>
[Config(typeof(FineTuningStepConfig))]
public class FineTuningStepBenchmarks
{
    private const int Batch = 32;
    private const int Sequence = 128;
    private const int GemmSize = 2048;

    internal static readonly BertConfig MiniLmShape = new()
    {
        VocabSize = 30522,
        HiddenSize = 384,
        NumHiddenLayers = 6,
        NumAttentionHeads = 12,
        IntermediateSize = 1536,
        MaxPositionEmbeddings = 512,
        AttentionImplementation = "sdpa",
    };

    private TrainingStepRunner runner = null!;
    private Tensor a = null!;
    private Tensor b = null!;

    [GlobalSetup]
    public void Setup()
    {
        Device device = BenchmarkDevice.Device;
        runner = new TrainingStepRunner(Batch, Sequence);
        a = randn(GemmSize, GemmSize, device: device);
        b = randn(GemmSize, GemmSize, device: device);
    }

    /// <summary>The reference rate: C = A·B, 2·n³ FLOPs.</summary>
    [Benchmark(Baseline = true)]
    public void Gemm2048()
    {
        using Tensor c = a.matmul(b);
        BenchmarkDevice.Synchronize();
    }

    /// <summary>The step as the trainer runs it (fused AdamW on the CPU).</summary>
    [Benchmark]
    public void FullFineTuningStep() => runner.Step();

    /// <summary>The same step with TorchSharp's own <c>AdamW.step</c>, for the fused update's share in the same run.</summary>
    [Benchmark]
    public void FullFineTuningStepTorchSharpAdamW() => runner.Step(fusedAdamW: false);

    /// <summary>
    /// Analytic FLOPs of one training step: forward matmuls per token per layer 2·(4H² + 2·H·I) plus attention 4·S·H,
    /// pooler and head; backward costs twice the forward.
    /// </summary>
    internal static double TrainingStepFlops() => StepProfile.StepFlops(Batch, Sequence);

    internal static double Flops(BenchmarkCase benchmarkCase) => benchmarkCase.Descriptor.WorkloadMethod.Name switch
    {
        nameof(Gemm2048) => 2.0 * GemmSize * GemmSize * GemmSize,
        nameof(FullFineTuningStep) or nameof(FullFineTuningStepTorchSharpAdamW) => TrainingStepFlops(),
        _ => double.NaN,
    };

    [GlobalCleanup]
    public void Cleanup()
    {
        runner.Dispose();
        a.Dispose();
        b.Dispose();
    }

    private sealed class FineTuningStepConfig : ManualConfig
    {
        public FineTuningStepConfig() => AddColumn(new GflopsColumn(Flops));
    }
}
