namespace Bert.Sharp.Training;

/// <summary>
/// What a resumed run is: the values a checkpoint's <c>trainer_state.json</c> must agree with before anything of it is
/// loaded (the run's shape, its data and seed, and the bounds of every position in it).
/// </summary>
/// <param name="TotalSteps">Optimizer steps of the whole run.</param>
/// <param name="TotalEpochs">Epochs of the whole run.</param>
/// <param name="BatchesPerEpoch">Batches of one epoch.</param>
/// <param name="BatchSize">Examples per batch.</param>
/// <param name="GradientAccumulationSteps">Batches per optimizer step.</param>
/// <param name="TrainExamples">Training examples.</param>
/// <param name="DataFingerprint">The training data's hash.</param>
/// <param name="Seed">The run's seed.</param>
/// <param name="Precision">The precision that runs.</param>
/// <param name="NeedsLossScaler">Whether the run keeps a float16 loss scaler.</param>
internal sealed record ResumeShape(
    int TotalSteps,
    int TotalEpochs,
    int BatchesPerEpoch,
    int BatchSize,
    int GradientAccumulationSteps,
    int TrainExamples,
    string DataFingerprint,
    int Seed,
    string Precision,
    bool NeedsLossScaler)
{
    /// <summary>Optimizer steps of one full epoch.</summary>
    public int UpdatesPerEpoch => (BatchesPerEpoch + GradientAccumulationSteps - 1) / GradientAccumulationSteps;
}
