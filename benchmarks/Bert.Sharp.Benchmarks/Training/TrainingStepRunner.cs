using Bert.Sharp.Training;
using Bert.Sharp.Benchmarks.Support;
using Bert.Sharp.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Benchmarks.Training;

/// <summary>
/// One full fine-tuning step of the all-MiniLM-L6-v2 shape (<see cref="FineTuningStepBenchmarks.MiniLmShape"/>, or another
/// <see cref="BertConfig"/>) with a linear head and AdamW, at a given batch shape, precision and checkpointing: what the
/// trainer does per step (autocast around forward and loss only; backward and optimizer outside, in fp32 master weights;
/// gradients released before the next step). Random weights and ids. Every training-step benchmark runs its step here.
/// </summary>
internal sealed class TrainingStepRunner : IDisposable
{
    private readonly BertModel model;
    private readonly Linear head;
    private readonly AdamW optimizer;
    private readonly Tensor ids;
    private readonly Tensor labels;
    private readonly MixedPrecision precision;

    public TrainingStepRunner(int batch, int sequence, TrainingPrecision precision = TrainingPrecision.Float32, bool checkpointing = false, BertConfig? shape = null)
    {
        Device device = BenchmarkDevice.Device;
        manual_seed(0);
        shape ??= FineTuningStepBenchmarks.MiniLmShape;
        model = new BertModel(shape) { GradientCheckpointing = checkpointing };
        model.to(device);
        head = nn.Linear(shape.HiddenSize, 2);
        head.to(device);
        model.train();
        optimizer = optim.AdamW(model.parameters().Concat(head.parameters()), lr: 2e-5);
        // Ids above the special tokens, within the vocabulary of the shape (MiniLM's 30,522 by default; a tiny check model's 128).
        ids = randint(Math.Min(1000, shape.VocabSize / 2), Math.Min(30000, shape.VocabSize), [batch, sequence], dtype: ScalarType.Int64, device: device);
        labels = randint(0, 2, [batch], dtype: ScalarType.Int64, device: device);
        this.precision = MixedPrecision.Resolve(precision, device, "benchmark precision");
    }

    /// <summary>What ran (Float32 when a reduced precision could not be used), and why it may be slow.</summary>
    public MixedPrecision Precision => precision;

    /// <summary>One step.</summary>
    /// <param name="fusedAdamW">The trainer's fused AdamW (default) or TorchSharp's <c>AdamW.step</c>, for comparison.</param>
    /// <param name="releaseGradients">
    /// Release the gradients first as the trainer does (default) or zero them in place with TorchSharp's
    /// <c>optimizer.zero_grad()</c>, for comparison.
    /// </param>
    public void Step(bool fusedAdamW = true, bool releaseGradients = true)
    {
        using var scope = NewDisposeScope();
        if (releaseGradients)
        {
            // As TrainingRun does after each optimizer step: Module.zero_grad() releases the gradients (set_to_none), so backward
            // hands its gradients over instead of adding them to zero-filled tensors (TorchSharp's optimizer.zero_grad() fills zeros).
            model.zero_grad();
            head.zero_grad();
        }
        else
        {
            optimizer.zero_grad();
        }

        Tensor loss;
        using (precision.Enter())
        {
            BertModelOutput output = model.Forward(ids);
            loss = nn.functional.cross_entropy(head.forward(output.PooledOutput!), labels);
        }

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

    public void Dispose()
    {
        optimizer.Dispose();
        model.Dispose();
        head.Dispose();
        ids.Dispose();
        labels.Dispose();
    }
}
