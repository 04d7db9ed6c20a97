using Bert.Sharp.Training;
using Bert.Sharp.Benchmarks.Support;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using TorchSharp;
using TorchSharp.Modules;
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

    private BertModel model = null!;
    private Linear head = null!;
    private AdamW optimizer = null!;
    private Tensor ids = null!;
    private Tensor labels = null!;
    private Tensor a = null!;
    private Tensor b = null!;

    [GlobalSetup]
    public void Setup()
    {
        Device device = BenchmarkDevice.Device;
        manual_seed(0);
        model = new BertModel(MiniLmShape);
        model.to(device);
        head = nn.Linear(384, 2);
        head.to(device);
        model.train();
        optimizer = optim.AdamW(model.parameters().Concat(head.parameters()), lr: 2e-5);
        ids = randint(1000, 30000, [Batch, Sequence], dtype: ScalarType.Int64, device: device);
        labels = randint(0, 2, [Batch], dtype: ScalarType.Int64, device: device);
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
    public void FullFineTuningStep() => Step(fusedAdamW: true);

    /// <summary>The same step with TorchSharp's own <c>AdamW.step</c>, for the fused update's share in the same run.</summary>
    [Benchmark]
    public void FullFineTuningStepTorchSharpAdamW() => Step(fusedAdamW: false);

    private void Step(bool fusedAdamW)
    {
        using var scope = NewDisposeScope();
        // As TrainingRun does after each optimizer step: Module.zero_grad() releases the gradients (set_to_none), so backward hands
        // its gradients over instead of adding them to zero-filled tensors (TorchSharp's optimizer.zero_grad() fills zeros).
        model.zero_grad();
        head.zero_grad();
        BertModelOutput output = model.Forward(ids);
        Tensor loss = nn.functional.cross_entropy(head.forward(output.PooledOutput!), labels);
        loss.backward();
        if (fusedAdamW)
        {
            FusedAdamWStep.Step(optimizer);
        }
        else
        {
            optimizer.step();
        }

        BenchmarkDevice.Synchronize();
    }

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
        optimizer.Dispose();
        model.Dispose();
        head.Dispose();
        ids.Dispose();
        labels.Dispose();
        a.Dispose();
        b.Dispose();
    }

    private sealed class FineTuningStepConfig : ManualConfig
    {
        public FineTuningStepConfig() => AddColumn(new GflopsColumn(Flops));
    }
}
