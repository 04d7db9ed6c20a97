using System.Diagnostics;
using Bert.Sharp.Training;

namespace Bert.Sharp;

/// <summary>Where a training run is, handed to every <see cref="TrainerCallback"/> event.</summary>
public sealed class TrainerContext
{
    private readonly TrainerState state;
    private readonly Stopwatch clock;

    internal TrainerContext(BertTaskModel model, FineTuningOptions options, TrainerState state, Stopwatch clock, int totalEpochs, int batchesPerEpoch)
    {
        Model = model;
        Options = options;
        this.state = state;
        this.clock = clock;
        TotalEpochs = totalEpochs;
        BatchesPerEpoch = batchesPerEpoch;
    }

    /// <summary>The model being trained.</summary>
    public BertTaskModel Model { get; }

    /// <summary>The run's options.</summary>
    public FineTuningOptions Options { get; }

    /// <summary>What the callbacks ask the trainer to do next.</summary>
    public TrainerControl Control { get; } = new();

    /// <summary>Optimizer steps done.</summary>
    public int GlobalStep => state.GlobalStep;

    /// <summary>Optimizer steps the run will take.</summary>
    public int TotalSteps => state.TotalSteps;

    /// <summary>The current epoch, 0-based.</summary>
    public int Epoch => Math.Min(state.Epoch, TotalEpochs - 1);

    /// <summary>Epochs planned.</summary>
    public int TotalEpochs { get; }

    /// <summary>Fractional epochs done (1.5 is half-way through the second epoch).</summary>
    public double EpochProgress => state.Epoch + ((double)state.BatchInEpoch / Math.Max(1, BatchesPerEpoch));

    /// <summary>The last optimizer step, or <c>null</c> before the first.</summary>
    public TrainingStepRecord? LastStep => state.Steps.Count > 0 ? state.Steps[^1] : null;

    /// <summary>Every optimizer step so far.</summary>
    public IReadOnlyList<TrainingStepRecord> Steps => state.Steps;

    /// <summary>Every evaluation so far.</summary>
    public IReadOnlyList<EvaluationRecord> Evaluations => state.Evaluations;

    /// <summary>Wall time since this call of <c>Train</c> started.</summary>
    public TimeSpan Elapsed => clock.Elapsed;

    /// <summary>Training examples per second since this call of <c>Train</c> started.</summary>
    public double SamplesPerSecond => SamplesThisCall / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);

    /// <summary>The best metric so far (by <see cref="FineTuningOptions.MetricForBestModel"/>), or <c>null</c>.</summary>
    public double? BestMetric => state.BestMetric;

    internal int BatchesPerEpoch { get; }

    internal long SamplesThisCall { get; set; }

    internal int StepsThisCall { get; set; }

    /// <summary>The state the built-in callbacks read and write (best metric, early stopping), saved with every checkpoint.</summary>
    internal TrainerState State => state;
}

/// <summary>Flags a <see cref="TrainerCallback"/> sets to steer the run (Hugging Face's <c>TrainerControl</c>).</summary>
public sealed class TrainerControl
{
    /// <summary>Stop training after the current step (as early stopping does); the run ends normally with a report.</summary>
    public bool ShouldStop { get; set; }

    /// <summary>Write a resumable checkpoint after the current step (needs <see cref="FineTuningOptions.OutputDirectory"/>).</summary>
    public bool ShouldSave { get; set; }

    /// <summary>Evaluate after the current step (needs validation data).</summary>
    public bool ShouldEvaluate { get; set; }
}
