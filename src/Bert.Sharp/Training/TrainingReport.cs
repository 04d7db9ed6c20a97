namespace Bert.Sharp;

/// <summary>What <c>FineTuner.Train</c> returns: the whole history of the run.</summary>
public sealed record TrainingReport
{
    /// <summary>Optimizer steps done, including those before a resume.</summary>
    public required int GlobalStep { get; init; }

    /// <summary>Epochs completed.</summary>
    public required int EpochsCompleted { get; init; }

    /// <summary>Every optimizer step: loss, learning rate, gradient norm.</summary>
    public required IReadOnlyList<TrainingStepRecord> Steps { get; init; }

    /// <summary>Every evaluation on the validation set, in order.</summary>
    public required IReadOnlyList<EvaluationRecord> Evaluations { get; init; }

    /// <summary>The mean training loss of each completed epoch.</summary>
    public required IReadOnlyList<double> EpochLosses { get; init; }

    /// <summary>The best evaluation (by <see cref="FineTuningOptions.MetricForBestModel"/>), or <c>null</c> without validation data.</summary>
    public EvaluationRecord? Best { get; init; }

    /// <summary>Where the best model was saved, or <c>null</c>.</summary>
    public string? BestModelDirectory { get; init; }

    /// <summary>The last resumable checkpoint written, or <c>null</c>.</summary>
    public string? LastCheckpoint { get; init; }

    /// <summary>Whether early stopping ended the run.</summary>
    public bool StoppedEarly { get; init; }

    /// <summary>Trainable and frozen parameters at the end of the run.</summary>
    public required ParameterSummary Parameters { get; init; }

    /// <summary>Wall time of this call (a resumed run counts from the resume).</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>Training examples per second over this call.</summary>
    public required double SamplesPerSecond { get; init; }

    /// <summary>Whether the encoder's features were computed once and reused (transfer learning).</summary>
    public bool UsedFeatureCache { get; init; }

    /// <summary>
    /// The precision the forward and backward passes actually ran in — <see cref="TrainingPrecision.Float32"/> when a reduced
    /// precision was requested but could not be used (the log says why).
    /// </summary>
    public TrainingPrecision Precision { get; init; } = TrainingPrecision.Float32;

    /// <summary>The precision <see cref="FineTuningOptions.Precision"/> asked for.</summary>
    public TrainingPrecision RequestedPrecision { get; init; } = TrainingPrecision.Float32;

    /// <summary>
    /// Why <see cref="Precision"/> ran, in one sentence: "Float32 as asked", or for <see cref="TrainingPrecision.Auto"/>
    /// what was chosen from which hardware feature ("the CPU has no AMX-BF16 (...)").
    /// </summary>
    public string PrecisionReason { get; init; } = string.Empty;

    /// <summary>Whether encoder layers were recomputed in the backward pass (<see cref="FineTuningOptions.GradientCheckpointing"/>).</summary>
    public bool GradientCheckpointing { get; init; }

    /// <summary>The mean training loss of the last step, or NaN when no step ran.</summary>
    public double FinalLoss => Steps.Count == 0 ? double.NaN : Steps[^1].Loss;
}

/// <summary>One optimizer step of a training run.</summary>
/// <param name="Step">The step number, 1-based.</param>
/// <param name="Epoch">Fractional epochs done after this step.</param>
/// <param name="Loss">Mean loss over the step's batches.</param>
/// <param name="LearningRate">Peak learning rate used by this step.</param>
/// <param name="GradientNorm">Gradient norm before clipping, or <c>null</c> when clipping is off.</param>
public sealed record TrainingStepRecord(int Step, double Epoch, double Loss, double LearningRate, double? GradientNorm);

/// <summary>One evaluation during training.</summary>
/// <param name="Step">The optimizer step after which it ran.</param>
/// <param name="Epoch">Fractional epochs done.</param>
/// <param name="Report">The metrics.</param>
public sealed record EvaluationRecord(int Step, double Epoch, EvaluationReport Report);
