using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Training;

/// <summary>Logs the mean training loss every <see cref="FineTuningOptions.LoggingSteps"/> steps and every evaluation.</summary>
internal sealed class LoggingCallback(ILogger logger) : TrainerCallback
{
    private double lossSum;
    private int lossCount;

    public override void OnStepEnd(TrainerContext context)
    {
        TrainingStepRecord step = context.LastStep!;
        lossSum += step.Loss;
        lossCount++;
        if (context.GlobalStep % context.Options.LoggingSteps == 0 || context.GlobalStep == context.TotalSteps)
        {
            TrainingLog.Step(logger, context.GlobalStep, context.TotalSteps, step.Epoch, lossSum / lossCount, step.LearningRate, context.SamplesPerSecond);
            lossSum = 0;
            lossCount = 0;
        }
    }

    public override void OnEvaluate(TrainerContext context, EvaluationReport report) =>
        TrainingLog.Evaluation(logger, context.GlobalStep, context.EpochProgress, report);
}
