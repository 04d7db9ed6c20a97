using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Training;

/// <summary>The log messages of fine-tuning and classification (source-generated, allocation-free when disabled).</summary>
internal static partial class TrainingLog
{
    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Training {Examples} examples for {Epochs} epoch(s) = {Steps} optimizer steps (batch {Batch} x accumulation {Accumulation}, warm-up {Warmup} steps), policy: {Policy}; trains: {Parts}")]
    public static partial void Start(ILogger logger, int examples, int epochs, int steps, int batch, int accumulation, int warmup, FreezePolicy policy, string parts);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Trainable parameters: {Trainable} of {Total} ({Fraction:P1}) in {Parts}")]
    public static partial void Parameters(ILogger logger, long trainable, long total, double fraction, string parts);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "step {Step}/{Total} epoch {Epoch:F2} loss {Loss:F4} lr {LearningRate:E3} {SamplesPerSecond:F1} samples/s")]
    public static partial void Step(ILogger logger, int step, int total, double epoch, double loss, double learningRate, double samplesPerSecond);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "Evaluation at step {Step} (epoch {Epoch:F2}): {Report}")]
    public static partial void Evaluation(ILogger logger, int step, double epoch, EvaluationReport report);

    [LoggerMessage(EventId = 105, Level = LogLevel.Information, Message = "Epoch {Epoch} unfreezes parameters: {Trainable} of {Total} now train, in {Parts}")]
    public static partial void Unfrozen(ILogger logger, int epoch, long trainable, long total, string parts);

    [LoggerMessage(EventId = 106, Level = LogLevel.Information, Message = "Encoder frozen: computed the features of {Count} examples once in {Milliseconds} ms; the head trains on them")]
    public static partial void FeaturesCached(ILogger logger, int count, long milliseconds);

    [LoggerMessage(EventId = 107, Level = LogLevel.Information, Message = "Saved checkpoint '{Directory}' at step {Step}")]
    public static partial void CheckpointSaved(ILogger logger, string directory, int step);

    [LoggerMessage(EventId = 108, Level = LogLevel.Information, Message = "Resumed from '{Directory}' at step {Step} (epoch {Epoch}, batch {Batch})")]
    public static partial void Resumed(ILogger logger, string directory, int step, int epoch, int batch);

    [LoggerMessage(EventId = 109, Level = LogLevel.Information, Message = "New best model ({Metric} = {Value:F4}) saved to '{Directory}'")]
    public static partial void BestSaved(ILogger logger, BestModelMetric metric, double value, string directory);

    [LoggerMessage(EventId = 110, Level = LogLevel.Information, Message = "Early stopping at step {Step}: no improvement of {Metric} for {Patience} evaluation(s)")]
    public static partial void EarlyStop(ILogger logger, int step, BestModelMetric metric, int patience);

    [LoggerMessage(EventId = 111, Level = LogLevel.Warning, Message = "{Count} of {Total} {Set} examples are longer than {MaxLength} tokens and were truncated (the first: #{First})")]
    public static partial void Truncated(ILogger logger, int count, int total, string set, int maxLength, int first);

    [LoggerMessage(EventId = 112, Level = LogLevel.Warning, Message = "Training cancelled at step {Step}; checkpoint: {Directory}")]
    public static partial void Cancelled(ILogger logger, int step, string directory);

    [LoggerMessage(EventId = 115, Level = LogLevel.Warning, Message = "Step {Step}: float16 gradients overflowed; the update was skipped and the loss scale lowered from {Scale}")]
    public static partial void OverflowSkipped(ILogger logger, int step, double scale);

    [LoggerMessage(EventId = 116, Level = LogLevel.Information, Message = "Checkpoints go to '{Directory}' while training, to resume an interrupted run, and are deleted when the run succeeds ({Option} = false, the default; set it, or FineTuningOptions.OutputDirectory, to keep them)")]
    public static partial void CheckpointsTemporary(ILogger logger, string directory, string option);

    [LoggerMessage(EventId = 117, Level = LogLevel.Information, Message = "Checkpoints go to '{Directory}' and are kept after the run ({Reason})")]
    public static partial void CheckpointsKept(ILogger logger, string directory, string reason);

    [LoggerMessage(EventId = 118, Level = LogLevel.Information, Message = "Training succeeded: deleted the checkpoint folder '{Directory}' (the model is in '{Output}')")]
    public static partial void CheckpointsDeleted(ILogger logger, string directory, string output);

    [LoggerMessage(EventId = 113, Level = LogLevel.Information, Message = "Training done: {Steps} steps in {Seconds:F1} s ({SamplesPerSecond:F1} samples/s), final loss {Loss:F4}")]
    public static partial void Done(ILogger logger, int steps, double seconds, double samplesPerSecond, double loss);

    [LoggerMessage(EventId = 119, Level = LogLevel.Warning, Message = "Checkpoint '{Directory}' (trainer state version {Version}) was written before checkpoints recorded the SHA-256 of their files: its files are resumed without verification")]
    public static partial void UnverifiedCheckpoint(ILogger logger, string directory, int version);

    [LoggerMessage(EventId = 120, Level = LogLevel.Information, Message = "{Modules}: initial weights drawn from torch's global generator and not changed since; redrawn from FineTuningOptions.Seed = {Seed}, so the run repeats itself")]
    public static partial void UnseededRedrawn(ILogger logger, string modules, int seed);

    [LoggerMessage(EventId = 121, Level = LogLevel.Warning, Message = "MKL runs its generic kernels on this AMD processor, and this run trains on the CPU: {Status}")]
    public static partial void MklGenericKernels(ILogger logger, string status);
}
