using Bert.Sharp;

namespace NamedEntityRecognition;

/// <summary>A training callback: one line per epoch with its mean loss, learning rate and speed.</summary>
internal sealed class EpochPrinter : TrainerCallback
{
    private int firstStepOfEpoch;

    public override void OnTrainBegin(TrainerContext context) =>
        Console.WriteLine($"  {context.TotalEpochs} epochs, {context.TotalSteps} optimizer steps");

    public override void OnEpochBegin(TrainerContext context) => firstStepOfEpoch = context.GlobalStep;

    public override void OnEpochEnd(TrainerContext context)
    {
        IEnumerable<TrainingStepRecord> steps = context.Steps.Skip(firstStepOfEpoch);
        double loss = steps.Any() ? steps.Average(s => s.Loss) : double.NaN;
        Console.WriteLine(
            $"  epoch {context.Epoch + 1}/{context.TotalEpochs}: mean loss {loss:F4}, " +
            $"{context.SamplesPerSecond:F1} sentences/s, {context.Elapsed.TotalSeconds:F0} s");
    }
}
