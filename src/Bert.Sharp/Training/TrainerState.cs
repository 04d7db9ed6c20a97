using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bert.Sharp.Training;

/// <summary>
/// Where a run is and what it has seen: saved as <c>trainer_state.json</c> in every checkpoint. Together with the
/// weights, the optimizer state and the random state it lets a resumed run continue bit for bit.
/// </summary>
internal sealed class TrainerState
{
    public const int CurrentVersion = 3;

    /// <summary>The oldest version still read: version 2 has no <see cref="Files"/> (its files are not verified; a warning says so).</summary>
    public const int OldestReadableVersion = 2;

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public int Version { get; set; } = CurrentVersion;

    /// <summary>Identifies the run (kept across resumes): checkpoint rotation deletes only this run's checkpoints.</summary>
    public string RunId { get; set; } = Guid.NewGuid().ToString("N");

    /// <summary>A hash of the encoded training data, so a resume can refuse other data of the same size.</summary>
    public string DataFingerprint { get; set; } = string.Empty;

    public int GlobalStep { get; set; }

    /// <summary>The epoch in progress (0-based).</summary>
    public int Epoch { get; set; }

    /// <summary>The next batch of <see cref="Epoch"/> to run (always the start of an accumulation group).</summary>
    public int BatchInEpoch { get; set; }

    /// <summary>The shuffling generator at the start of <see cref="Epoch"/>, so its batches can be rebuilt.</summary>
    public ulong EpochRngState { get; set; }

    public ulong EpochRngIncrement { get; set; }

    /// <summary>An evaluation was due after <see cref="GlobalStep"/> but interrupted; run it first on resume.</summary>
    public bool PendingEvaluation { get; set; }

    public double? BestMetric { get; set; }

    public int BestStep { get; set; }

    public int EvaluationsWithoutImprovement { get; set; }

    public bool StoppedEarly { get; set; }

    public double EpochLossSum { get; set; }

    public int EpochLossCount { get; set; }

    public List<double> EpochLosses { get; set; } = [];

    public List<TrainingStepRecord> Steps { get; set; } = [];

    public List<EvaluationRecord> Evaluations { get; set; } = [];

    public List<ParameterGroupLayout> OptimizerGroups { get; set; } = [];

    // The shape of the run: a resume with other values would not continue the same run.
    public int TotalSteps { get; set; }

    public int BatchSize { get; set; }

    public int GradientAccumulationSteps { get; set; }

    public int TrainExamples { get; set; }

    public int Seed { get; set; }

    /// <summary>The precision that ran (<see cref="TrainingPrecision"/> name); <c>null</c> in checkpoints written before it was recorded.</summary>
    public string? Precision { get; set; }

    /// <summary>The float16 loss scaler, when the run uses one.</summary>
    public LossScalerState? LossScaler { get; set; }

    /// <summary>
    /// SHA-256 (lower-case hex) of every other file of the checkpoint, by path relative to it with <c>/</c>; written last,
    /// so a resume can refuse a file changed since. <c>null</c> in version-2 checkpoints.
    /// </summary>
    public Dictionary<string, string>? Files { get; set; }
}
