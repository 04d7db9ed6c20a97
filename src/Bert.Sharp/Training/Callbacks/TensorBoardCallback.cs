using TorchSharp.Modules;

namespace Bert.Sharp.Training;

/// <summary>
/// Writes TensorBoard event files: <c>train/loss</c> (mean over the logging interval), <c>train/learning_rate</c>,
/// <c>train/grad_norm</c>, and <c>eval/*</c> after every evaluation.
/// </summary>
internal sealed class TensorBoardCallback(string directory) : TrainerCallback
{
    private SummaryWriter? writer;
    private double lossSum;
    private int lossCount;

    public override void OnTrainBegin(TrainerContext context) => writer ??= TorchSharp.torch.utils.tensorboard.SummaryWriter(directory);

    public override void OnStepEnd(TrainerContext context)
    {
        TrainingStepRecord step = context.LastStep!;
        lossSum += step.Loss;
        lossCount++;
        if (writer is null || !(context.GlobalStep % context.Options.LoggingSteps == 0 || context.GlobalStep == context.TotalSteps))
        {
            return;
        }

        writer.add_scalar("train/loss", (float)(lossSum / lossCount), context.GlobalStep);
        writer.add_scalar("train/learning_rate", (float)step.LearningRate, context.GlobalStep);
        if (step.GradientNorm is double norm)
        {
            writer.add_scalar("train/grad_norm", (float)norm, context.GlobalStep);
        }

        lossSum = 0;
        lossCount = 0;
    }

    public override void OnEvaluate(TrainerContext context, EvaluationReport report)
    {
        if (writer is null)
        {
            return;
        }

        writer.add_scalar("eval/loss", (float)report.Loss, context.GlobalStep);
        foreach ((string name, double value) in new[] { ("eval/accuracy", report.Accuracy), ("eval/f1", report.MacroF1), ("eval/entity_f1", report.EntityF1) })
        {
            if (!double.IsNaN(value))
            {
                writer.add_scalar(name, (float)value, context.GlobalStep);
            }
        }
    }
}
