using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Training;

/// <summary>Tests that depend on torch's global generator (dropout) or global tensor counts: run alone.</summary>
[Collection(SerialTorchGroup.Name)]
public class ResumeAndMemoryTests
{
    private static readonly FineTuningOptions Options = new()
    {
        Epochs = 2,
        BatchSize = 4,
        GradientAccumulationSteps = 2,
        LearningRate = 3e-3,
        WarmupSteps = 3,
        EvaluationStrategy = IntervalStrategy.Epoch,
        SaveStrategy = IntervalStrategy.No,
        SaveTotalLimit = null,
        GroupByLength = true,
    };

    [Theory]
    [InlineData("full")]
    [InlineData("gradual")]
    public void Cancelled_then_resumed_run_ends_bit_identical_to_an_uninterrupted_one(string policyName)
    {
        FreezePolicy policy = policyName == "full" ? FreezePolicy.FullFineTuning() : FreezePolicy.GradualUnfreezing(1);
        var train = ToyData.Sentiment(27);
        var validation = ToyData.Sentiment(6, seed: 4);
        var options = Options with { FreezePolicy = policy };

        using var straight = ToyData.Model(dropout: 0.1);
        TrainingReport full = ToyData.Tuner(straight, options).Train(train, validation);

        // Same start, cancelled after step 5 (mid-epoch, mid-schedule), then resumed from the checkpoint it wrote.
        string output = TestSupport.TestTemp.NewDirectory("ft-resume");
        using var interrupted = ToyData.Model(dropout: 0.1);
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.Step == 5 && p.Evaluation is null)
            {
                cts.Cancel();
            }
        });
        var cancelled = Assert.Throws<TrainingCanceledException>(() => ToyData.Tuner(interrupted, options with { OutputDirectory = output }).Train(train, validation, progress, cts.Token));
        Assert.Equal(5, cancelled.Step);
        Assert.True(Directory.Exists(cancelled.CheckpointDirectory));
        Assert.Empty(Directory.GetDirectories(output, ".*"));

        // Wreck the in-memory model and the global generator: the checkpoint alone must restore everything.
        using var resumed = ToyData.Model(dropout: 0.1, seed: 1234);
        TrainingReport rest = ToyData.Tuner(resumed, options with { OutputDirectory = output, ResumeFromCheckpoint = cancelled.CheckpointDirectory }).Train(train, validation);

        Assert.Equal(full.GlobalStep, rest.GlobalStep);
        Assert.Equal(full.Steps.Select(s => s.Loss), rest.Steps.Select(s => s.Loss));
        Assert.Equal(full.Evaluations.Select(e => e.Report.Loss), rest.Evaluations.Select(e => e.Report.Loss));
        var a = ToyData.Snapshot(straight);
        var b = ToyData.Snapshot(resumed);
        foreach ((string key, float[] values) in a)
        {
            Assert.True(values.AsSpan().SequenceEqual(b[key]), $"'{key}' differs after resume");
        }
    }

    [Fact]
    public void A_checkpoint_is_not_resumed_in_another_precision()
    {
        // A float32 checkpoint continued in bfloat16 would not be the same run (and a float16 one needs its loss scale).
        var train = ToyData.Sentiment(16);
        string output = TestSupport.TestTemp.NewDirectory("ft-resume-precision");
        using var model = ToyData.Model();
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.Step == 2 && p.Evaluation is null)
            {
                cts.Cancel();
            }
        });
        var options = Options with { OutputDirectory = output, EvaluationStrategy = IntervalStrategy.No };
        var cancelled = Assert.Throws<TrainingCanceledException>(() => ToyData.Tuner(model, options).Train(train, null, progress, cts.Token));
        Assert.Contains("\"precision\": \"Float32\"", File.ReadAllText(Path.Combine(cancelled.CheckpointDirectory!, "trainer_state.json")), StringComparison.Ordinal);

        using var again = ToyData.Model();
        var error = Assert.Throws<InvalidOperationException>(() => ToyData.Tuner(again, options with { ResumeFromCheckpoint = cancelled.CheckpointDirectory, Precision = TrainingPrecision.BFloat16 }).Train(train));
        Assert.Contains("precision Float32 vs BFloat16", error.Message, StringComparison.Ordinal);
        Assert.Contains(cancelled.CheckpointDirectory!, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_seeded_run_reproduces_its_numbers_exactly()
    {
        var train = ToyData.Sentiment(20);
        using var first = ToyData.Model(dropout: 0.1);
        using var second = ToyData.Model(dropout: 0.1);
        TrainingReport a = ToyData.Tuner(first, Options).Train(train);
        manual_seed(999); // whatever happened in between
        TrainingReport b = ToyData.Tuner(second, Options).Train(train);
        Assert.Equal(a.Steps.Select(s => s.Loss), b.Steps.Select(s => s.Loss));
        Assert.Equal(a.Steps.Select(s => s.GradientNorm), b.Steps.Select(s => s.GradientNorm));
    }

    [Fact]
    public void Live_tensor_count_stays_flat_over_1000_steps()
    {
        using var model = ToyData.Model(dropout: 0.1);
        var counts = new Dictionary<int, long>();
        var progress = new SyncProgress(p =>
        {
            if (p.Step is 100 or 1000)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                counts[p.Step] = Tensor.TotalCount;
            }
        });
        var options = Options with { Epochs = 1, MaxSteps = 1000, BatchSize = 2, GradientAccumulationSteps = 1, GroupByLength = false, EvaluationStrategy = IntervalStrategy.No, FreezePolicy = FreezePolicy.FineTuneTopLayers(1) };
        ToyData.Tuner(model, options).Train(ToyData.Sentiment(40), null, progress);
        Assert.Equal(counts[100], counts[1000]);
    }

    /// <summary>Reports synchronously on the training thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
