namespace Bert.Sharp;

/// <summary>
/// A snapshot reported through <see cref="IProgress{T}"/> after every optimizer step (and after each evaluation):
/// enough to drive a progress bar, a live loss chart or a cancel button.
/// </summary>
public sealed record TrainingProgress
{
    /// <summary>Optimizer steps done.</summary>
    public required int Step { get; init; }

    /// <summary>Optimizer steps the run will take.</summary>
    public required int TotalSteps { get; init; }

    /// <summary>The current epoch, 0-based (display <c>Epoch + 1</c>).</summary>
    public required int Epoch { get; init; }

    /// <summary>Epochs planned.</summary>
    public required int TotalEpochs { get; init; }

    /// <summary>Fractional epochs done (1.5 is half-way through the second epoch), as Hugging Face logs it.</summary>
    public required double EpochProgress { get; init; }

    /// <summary>The training loss of the last optimizer step (mean over its accumulated batches).</summary>
    public required double Loss { get; init; }

    /// <summary>The learning rate of the last step (of the group with the head, i.e. the peak rate).</summary>
    public required double LearningRate { get; init; }

    /// <summary>The gradient norm before clipping, or <c>null</c> when clipping is off.</summary>
    public double? GradientNorm { get; init; }

    /// <summary>Training examples per second since the run (or resume) started.</summary>
    public required double SamplesPerSecond { get; init; }

    /// <summary>Wall time since the run (or resume) started.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>Estimated time to the last step at the current speed (evaluations not included).</summary>
    public required TimeSpan EstimatedRemaining { get; init; }

    /// <summary>Set when this report follows an evaluation.</summary>
    public EvaluationReport? Evaluation { get; init; }
}
