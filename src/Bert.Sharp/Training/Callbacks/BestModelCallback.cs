using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Bert.Sharp.Training;

/// <summary>
/// Tracks the best evaluation by <see cref="FineTuningOptions.MetricForBestModel"/>: saves it to <c>OutputDirectory/best</c>
/// (or keeps its weights in memory), and with <see cref="FineTuningOptions.LoadBestModelAtEnd"/> puts it back at the end.
/// Its counters live in the trainer state, so a resumed run continues them.
/// </summary>
internal sealed class BestModelCallback(TrainingTask task, ILogger logger) : TrainerCallback, IDisposable
{
    private Dictionary<string, Tensor>? bestWeights;

    /// <summary>Where the best model was saved, or <c>null</c>.</summary>
    public string? BestDirectory { get; set; }

    public override void OnEvaluate(TrainerContext context, EvaluationReport report)
    {
        FineTuningOptions options = context.Options;
        TrainerState state = context.State;
        (double value, bool higher) = report.Metric(options.MetricForBestModel);
        bool improved = !double.IsNaN(value) && (state.BestMetric is not double best
            || (higher ? value > best + options.EarlyStoppingThreshold : value < best - options.EarlyStoppingThreshold));
        if (!improved)
        {
            state.EvaluationsWithoutImprovement++;
            return;
        }

        state.BestMetric = value;
        state.BestStep = state.GlobalStep;
        state.EvaluationsWithoutImprovement = 0;
        if (options.OutputDirectory is not null && options.SaveBestModel)
        {
            string directory = Path.Combine(options.OutputDirectory, "best");
            TrainingCheckpoint.SaveModel(task, directory);
            BestDirectory = directory;
            TrainingLog.BestSaved(logger, options.MetricForBestModel, value, directory);
        }
        else if (options.LoadBestModelAtEnd)
        {
            DisposeWeights();
            bestWeights = task.Model.state_dict().ToDictionary(kv => kv.Key, kv => Runtime.TensorCopy.Detached(kv.Value), StringComparer.Ordinal);
        }
    }

    public override void OnTrainEnd(TrainerContext context)
    {
        if (!context.Options.LoadBestModelAtEnd)
        {
            return;
        }

        if (BestDirectory is not null)
        {
            TrainingCheckpoint.LoadWeights(BestDirectory, task.Model, logger);
        }
        else if (bestWeights is not null)
        {
            using var noGrad = no_grad();
            foreach ((string name, Tensor value) in task.Model.state_dict())
            {
                value.copy_(bestWeights[name]);
            }
        }
    }

    public void Dispose() => DisposeWeights();

    private void DisposeWeights()
    {
        if (bestWeights is not null)
        {
            foreach (Tensor t in bestWeights.Values)
            {
                t.Dispose();
            }

            bestWeights = null;
        }
    }
}
