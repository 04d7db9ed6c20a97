namespace Bert.Sharp.Training;

/// <summary>Reports a <see cref="TrainingProgress"/> after every optimizer step and every evaluation.</summary>
internal sealed class ProgressCallback(IProgress<TrainingProgress> progress) : TrainerCallback
{
    public override void OnStepEnd(TrainerContext context) => progress.Report(Snapshot(context, null));

    public override void OnEvaluate(TrainerContext context, EvaluationReport report) => progress.Report(Snapshot(context, report));

    private static TrainingProgress Snapshot(TrainerContext context, EvaluationReport? evaluation)
    {
        TrainingStepRecord? last = context.LastStep;
        TimeSpan elapsed = context.Elapsed;
        int remaining = context.TotalSteps - context.GlobalStep;
        TimeSpan eta = context.StepsThisCall == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(elapsed.Ticks / context.StepsThisCall * remaining);
        return new TrainingProgress
        {
            Step = context.GlobalStep,
            TotalSteps = context.TotalSteps,
            Epoch = context.Epoch,
            TotalEpochs = context.TotalEpochs,
            EpochProgress = evaluation is null && last is not null ? last.Epoch : context.EpochProgress,
            Loss = last?.Loss ?? double.NaN,
            LearningRate = last?.LearningRate ?? 0,
            GradientNorm = last?.GradientNorm,
            SamplesPerSecond = context.SamplesPerSecond,
            Elapsed = elapsed,
            EstimatedRemaining = eta,
            Evaluation = evaluation,
        };
    }
}
