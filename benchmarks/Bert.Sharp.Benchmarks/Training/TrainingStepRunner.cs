using Bert.Sharp.Training;
using Bert.Sharp.Benchmarks.Support;
using Bert.Sharp.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Benchmarks.Training;

/// <summary>
/// One full fine-tuning step of the all-MiniLM-L6-v2 shape (<see cref="FineTuningStepBenchmarks.MiniLmShape"/>) with a linear
/// head and AdamW, at a given batch shape, precision and checkpointing: what the trainer does per step (autocast around
/// forward and loss only; backward and optimizer outside, in fp32 master weights). Random weights and ids.
/// </summary>
internal sealed class TrainingStepRunner : IDisposable
{
    private readonly BertModel model;
    private readonly Linear head;
    private readonly AdamW optimizer;
    private readonly Tensor ids;
    private readonly Tensor labels;
    private readonly MixedPrecision precision;

    public TrainingStepRunner(int batch, int sequence, TrainingPrecision precision, bool checkpointing)
    {
        Device device = BenchmarkDevice.Device;
        manual_seed(0);
        model = new BertModel(FineTuningStepBenchmarks.MiniLmShape) { GradientCheckpointing = checkpointing };
        model.to(device);
        head = nn.Linear(384, 2);
        head.to(device);
        model.train();
        optimizer = optim.AdamW(model.parameters().Concat(head.parameters()), lr: 2e-5);
        ids = randint(1000, 30000, [batch, sequence], dtype: ScalarType.Int64, device: device);
        labels = randint(0, 2, [batch], dtype: ScalarType.Int64, device: device);
        this.precision = MixedPrecision.Resolve(precision, device, "benchmark precision");
    }

    /// <summary>What ran (Float32 when a reduced precision could not be used), and why it may be slow.</summary>
    public MixedPrecision Precision => precision;

    public void Step()
    {
        using var scope = NewDisposeScope();
        // As TrainingRun does after each optimizer step: Module.zero_grad() releases the gradients (set_to_none), so backward hands
        // its gradients over instead of adding them to zero-filled tensors (TorchSharp's optimizer.zero_grad() fills zeros).
        model.zero_grad();
        head.zero_grad();
        Tensor loss;
        using (precision.Enter())
        {
            BertModelOutput output = model.Forward(ids);
            loss = nn.functional.cross_entropy(head.forward(output.PooledOutput!), labels);
        }

        loss.backward();
        FusedAdamWStep.Step(optimizer);
        BenchmarkDevice.Synchronize();
    }

    public void Dispose()
    {
        optimizer.Dispose();
        model.Dispose();
        head.Dispose();
        ids.Dispose();
        labels.Dispose();
    }
}
