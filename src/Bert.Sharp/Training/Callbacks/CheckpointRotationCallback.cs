namespace Bert.Sharp.Training;

/// <summary>Keeps at most <see cref="FineTuningOptions.SaveTotalLimit"/> of this run's checkpoints (oldest deleted first; other runs' are never touched).</summary>
internal sealed class CheckpointRotationCallback(int limit) : TrainerCallback
{
    public override void OnSave(TrainerContext context, string checkpointDirectory) =>
        TrainingCheckpoint.Rotate(context.Options.OutputDirectory!, limit, checkpointDirectory, context.State.RunId);
}
