namespace Bert.Sharp;

/// <summary>
/// Reacts to what happens during <see cref="FineTuner"/>'s training (Hugging Face's <c>TrainerCallback</c>): progress
/// reports, logging, TensorBoard, early stopping, best-model selection and checkpoints are all callbacks over these events.
/// Derive from it and add an instance to <see cref="FineTuningOptions.Callbacks"/> to add your own (a live chart, a custom
/// metric, a stop button); it runs after the built-in ones.
/// </summary>
/// <remarks>Callbacks run on the training thread; keep them quick. Set <see cref="TrainerContext.Control"/> flags to act.</remarks>
public abstract class TrainerCallback
{
    /// <summary>Before the first step of <c>Train</c> (also after a resume).</summary>
    public virtual void OnTrainBegin(TrainerContext context)
    {
    }

    /// <summary>At the start of every epoch (0-based <see cref="TrainerContext.Epoch"/>), after the freeze plan of the epoch is applied.</summary>
    public virtual void OnEpochBegin(TrainerContext context)
    {
    }

    /// <summary>After every optimizer step; <see cref="TrainerContext.LastStep"/> holds its loss, learning rate and gradient norm.</summary>
    public virtual void OnStepEnd(TrainerContext context)
    {
    }

    /// <summary>After every evaluation on the validation set.</summary>
    public virtual void OnEvaluate(TrainerContext context, EvaluationReport report)
    {
    }

    /// <summary>After a resumable checkpoint was written to <paramref name="checkpointDirectory"/>.</summary>
    public virtual void OnSave(TrainerContext context, string checkpointDirectory)
    {
    }

    /// <summary>
    /// At the end of every epoch, before its evaluation and checkpoint: the built-in flow asks for those here (through
    /// <see cref="TrainerContext.Control"/>), so <see cref="OnEvaluate"/> and <see cref="OnSave"/> of the epoch follow this event.
    /// </summary>
    public virtual void OnEpochEnd(TrainerContext context)
    {
    }

    /// <summary>After the last step (and before the report is returned).</summary>
    public virtual void OnTrainEnd(TrainerContext context)
    {
    }
}
