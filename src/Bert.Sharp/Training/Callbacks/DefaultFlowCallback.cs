namespace Bert.Sharp.Training;

/// <summary>Asks for evaluations and checkpoints when <see cref="FineTuningOptions"/>' strategies say (Hugging Face's DefaultFlowCallback).</summary>
internal sealed class DefaultFlowCallback : TrainerCallback
{
    public override void OnStepEnd(TrainerContext context)
    {
        FineTuningOptions options = context.Options;
        if (options.EvaluationStrategy == IntervalStrategy.Steps && context.GlobalStep % options.EvaluationSteps == 0)
        {
            context.Control.ShouldEvaluate = true;
        }

        if (options.SaveStrategy == IntervalStrategy.Steps && context.GlobalStep % options.SaveSteps == 0)
        {
            context.Control.ShouldSave = true;
        }
    }

    public override void OnEpochEnd(TrainerContext context)
    {
        if (context.Options.EvaluationStrategy == IntervalStrategy.Epoch)
        {
            context.Control.ShouldEvaluate = true;
        }

        if (context.Options.SaveStrategy == IntervalStrategy.Epoch)
        {
            context.Control.ShouldSave = true;
        }
    }
}
