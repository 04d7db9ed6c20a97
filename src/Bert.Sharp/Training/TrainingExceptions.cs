namespace Bert.Sharp;

/// <summary>
/// The training loss became NaN or infinite. Parameters are left as they were before the failing step; the
/// message names the step and suggests causes (a too-high learning rate, bad regression targets).
/// </summary>
public sealed class TrainingDivergedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException(string message, int step, int epoch, double loss) : base(message)
    {
        Step = step;
        Epoch = epoch;
        Loss = loss;
    }

    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>The optimizer step (1-based) whose loss was not finite.</summary>
    public int Step { get; }

    /// <summary>The epoch (1-based).</summary>
    public int Epoch { get; }

    /// <summary>The loss value (NaN or ±∞).</summary>
    public double Loss { get; }
}

/// <summary>
/// Training was cancelled through its <see cref="CancellationToken"/>. When an output directory was set, a complete
/// checkpoint of the last finished step was written first: pass <see cref="CheckpointDirectory"/> as
/// <see cref="FineTuningOptions.ResumeFromCheckpoint"/> to continue exactly where it stopped.
/// </summary>
public sealed class TrainingCanceledException : OperationCanceledException
{
    /// <summary>Creates the exception.</summary>
    public TrainingCanceledException(string message, string? checkpointDirectory, int step, CancellationToken token) : base(message, token)
    {
        CheckpointDirectory = checkpointDirectory;
        Step = step;
    }

    /// <summary>Creates the exception.</summary>
    public TrainingCanceledException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public TrainingCanceledException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public TrainingCanceledException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>The checkpoint written on cancellation, or <c>null</c> without an output directory.</summary>
    public string? CheckpointDirectory { get; }

    /// <summary>Optimizer steps completed (and saved) before cancellation.</summary>
    public int Step { get; }
}
