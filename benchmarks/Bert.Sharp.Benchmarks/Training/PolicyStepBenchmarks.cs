using Bert.Sharp.Training;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Bert.Sharp.Benchmarks.Support;
using BenchmarkDotNet.Attributes;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Benchmarks.Training;

/// <summary>
/// One training step (forward, backward, AdamW over the trainable parameters only) of an all-MiniLM-L6-v2-shaped
/// classifier at batch 16 × 128 tokens under three freeze policies: full fine-tuning, the top layer + head, and LoRA
/// (rank 8 on query and value + head). <see cref="Profile"/> measures the same steps' time and peak resident memory in one
/// process, one policy after another (the <c>policy-memory</c> command).
/// </summary>
public class PolicyStepBenchmarks
{
    private const int Batch = 16;
    private const int Sequence = 128;

    private PolicyStep step = null!;

    /// <summary>The freeze policy.</summary>
    [Params("full", "top1", "lora")]
    public string Policy { get; set; } = "lora";

    [GlobalSetup]
    public void Setup() => step = new PolicyStep(Policy, BenchmarkDevice.Device);

    [Benchmark]
    public void TrainingStep() => step.Run();

    [GlobalCleanup]
    public void Cleanup() => step.Dispose();

    /// <summary>A markdown table: per policy, trainable parameters, optimizer tensors, median step time and peak memory above the model's.</summary>
    public static string Profile(int steps = 4)
    {
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"Batch {Batch} × {Sequence} tokens, MiniLM-L6 shape, {steps} steps after one warm-up, one process.");
        table.AppendLine();
        table.AppendLine("| Policy | Trainable parameters | Tensors with optimizer state | Median step (ms) | Peak memory above the model (MiB) |");
        table.AppendLine("|---|---:|---:|---:|---:|");
        foreach (string policy in new[] { "full", "top1", "lora" })
        {
            using var step = new PolicyStep(policy, BenchmarkDevice.Device);
            step.Run(); // warm-up: allocator, optimizer state
            GC.Collect();
            long before = PeakMemory.IsSupported ? PeakMemory.ResidentBytes() : 0;
            if (PeakMemory.IsSupported)
            {
                PeakMemory.Reset();
            }

            var times = new List<double>();
            for (int i = 0; i < steps; i++)
            {
                var watch = Stopwatch.StartNew();
                step.Run();
                times.Add(watch.Elapsed.TotalMilliseconds);
            }

            double peak = PeakMemory.IsSupported ? (PeakMemory.HighWaterMarkBytes() - before) / 1048576.0 : double.NaN;
            times.Sort();
            table.AppendLine(CultureInfo.InvariantCulture, $"| {policy} | {step.Trainable:N0} ({step.TrainableFraction:P2}) | {step.OptimizerTensors} | {times[times.Count / 2]:F0} | {peak:F0} |");
        }

        return table.ToString();
    }

    /// <summary>A classifier under one policy with its optimizer and a fixed random batch.</summary>
    private sealed class PolicyStep : IDisposable
    {
        private readonly BertForSequenceClassification model;
        private readonly AdamW optimizer;
        private readonly Tensor ids;
        private readonly Tensor labels;

        public PolicyStep(string policy, Device device)
        {
            manual_seed(0);
            model = new BertForSequenceClassification(new BertModel(FineTuningStepBenchmarks.MiniLmShape), ["negative", "positive"], pooling: PoolingStrategy.Mean);
            model.to(device);
            FreezePolicy freeze = policy switch
            {
                "full" => FreezePolicy.FullFineTuning(),
                "top1" => FreezePolicy.FineTuneTopLayers(1),
                _ => FreezePolicy.LoRA(rank: 8),
            };
            ParameterSummary summary = model.ApplyFreezePolicy(freeze);
            Trainable = summary.Trainable;
            TrainableFraction = summary.TrainableFraction;
            Parameter[] trainable = [.. model.parameters().Where(p => p.requires_grad)];
            OptimizerTensors = trainable.Length;
            optimizer = optim.AdamW(trainable, lr: 1e-4);
            model.train();
            ids = randint(1000, 30000, [Batch, Sequence], dtype: ScalarType.Int64, device: device);
            labels = randint(0, 2, [Batch], dtype: ScalarType.Int64, device: device);
        }

        public long Trainable { get; }

        public double TrainableFraction { get; }

        public int OptimizerTensors { get; }

        public void Run()
        {
            using var scope = NewDisposeScope();
            // As TrainingRun does after each optimizer step: Module.zero_grad() releases the gradients (set_to_none), so backward hands
            // its gradients over instead of adding them to zero-filled tensors (TorchSharp's optimizer.zero_grad() fills zeros).
            model.zero_grad();
            model.Forward(ids, labels: labels).Loss!.backward();
            FusedAdamWStep.Step(optimizer);
            BenchmarkDevice.Synchronize();
        }

        public void Dispose()
        {
            optimizer.Dispose();
            model.Dispose();
            ids.Dispose();
            labels.Dispose();
        }
    }
}
