namespace Bert.Sharp.Training;

/// <summary>
/// The multiplier of each group's learning rate at an optimizer step, as Hugging Face's schedulers compute it:
/// the update of step <c>t</c> (0-based) uses <c>lambda(t)</c>. A pure function of the step, so resuming is exact.
/// </summary>
internal sealed class LearningRateScheduler(LearningRateSchedule schedule, int warmupSteps, int totalSteps)
{
    public int WarmupSteps { get; } = warmupSteps;

    public int TotalSteps { get; } = totalSteps;

    public double Factor(int step)
    {
        if (step < WarmupSteps)
        {
            return (double)step / Math.Max(1, WarmupSteps);
        }

        double progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        return schedule switch
        {
            LearningRateSchedule.Constant => 1.0,
            LearningRateSchedule.Cosine => Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * progress))),
            _ => Math.Max(0.0, (double)(TotalSteps - step) / Math.Max(1, TotalSteps - WarmupSteps)),
        };
    }
}
