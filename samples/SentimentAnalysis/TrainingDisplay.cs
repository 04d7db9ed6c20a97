using Bert.Sharp;
using Spectre.Console;

namespace SentimentAnalysis;

/// <summary>Drives a Spectre.Console progress bar from the trainer's <see cref="TrainingProgress"/> reports.</summary>
internal sealed class TrainingDisplay : IProgress<TrainingProgress>
{
    private readonly ProgressTask task;
    private readonly List<TrainingProgress> evaluations = [];

    public TrainingDisplay(ProgressTask task) => this.task = task;

    /// <summary>Progress reports that carried an evaluation, in order.</summary>
    public IReadOnlyList<TrainingProgress> Evaluations => evaluations;

    public void Report(TrainingProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        task.MaxValue = Math.Max(1, value.TotalSteps);
        task.Value = value.Step;
        string eval = value.Evaluation is { } e && !double.IsNaN(e.Accuracy) ? $" | eval acc {e.Accuracy:P1}" : "";
        task.Description = $"epoch {Math.Min(value.Epoch + 1, value.TotalEpochs)}/{value.TotalEpochs} | loss {value.Loss:F4} | lr {value.LearningRate:E1} | {value.SamplesPerSecond:F0} samples/s | ETA {value.EstimatedRemaining:mm\\:ss}{eval}";
        if (value.Evaluation is not null)
        {
            evaluations.Add(value);
        }
    }
}
