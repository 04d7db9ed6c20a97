namespace Bert.Sharp;

/// <summary>
/// The examples of one set, encoded by <see cref="TrainingTask{TExample}.Encode"/>: what the trainer batches (by index) and
/// the task reads back in <see cref="TrainingTask.Forward"/>. Derive from it to hold your task's inputs and targets.
/// </summary>
public abstract class TaskDataset
{
    /// <summary>Number of examples.</summary>
    public abstract int Count { get; }

    /// <summary>Token count of each example, for length-grouped batches.</summary>
    public abstract IReadOnlyList<int> Lengths { get; }

    /// <summary>
    /// A fingerprint of the encoded inputs and targets (e.g. a SHA-256 of the ids and labels), so that a run resumed from a
    /// checkpoint can check that it continues on the same data.
    /// </summary>
    public abstract string Fingerprint { get; }
}
