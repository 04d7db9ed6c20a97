using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Training;

/// <summary>Stops the run when the best metric has not improved for <see cref="FineTuningOptions.EarlyStoppingPatience"/> evaluations.</summary>
internal sealed class EarlyStoppingCallback(int patience, ILogger logger) : TrainerCallback
{
    public override void OnEvaluate(TrainerContext context, EvaluationReport report)
    {
        if (context.State.EvaluationsWithoutImprovement >= patience)
        {
            context.State.StoppedEarly = true;
            context.Control.ShouldStop = true;
            TrainingLog.EarlyStop(logger, context.GlobalStep, context.Options.MetricForBestModel, patience);
        }
    }
}
