namespace Bert.Sharp;

/// <summary>
/// Everything <see cref="FineTuner"/> does that can be tuned. Defaults follow Hugging Face's <c>TrainingArguments</c>
/// (AdamW, lr 5e-5, linear decay, gradient clipping at 1.0, seed 42) except weight decay 0.01 (as BERT was trained).
/// </summary>
/// <remarks>Change what you need with <c>with</c>: <c>new FineTuningOptions { Epochs = 4, FreezePolicy = FreezePolicy.FineTuneTopLayers(2) }</c>.</remarks>
public sealed record FineTuningOptions
{
    /// <summary>Passes over the training set. Ignored when <see cref="MaxSteps"/> is set.</summary>
    public int Epochs { get; init; } = 3;

    /// <summary>Stop after this many optimizer steps (the schedule spans them); <c>null</c> trains <see cref="Epochs"/> epochs.</summary>
    public int? MaxSteps { get; init; }

    /// <summary>Examples per forward pass while training.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Examples per forward pass while evaluating (no gradients, so it can be larger).</summary>
    public int EvaluationBatchSize { get; init; } = 32;

    /// <summary>Batches whose gradients add up before one optimizer step; the effective batch is <see cref="BatchSize"/> × this.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>Peak learning rate of AdamW.</summary>
    public double LearningRate { get; init; } = 5e-5;

    /// <summary>
    /// Learning rate of the new classification head, when it should differ from <see cref="LearningRate"/>; <c>null</c> uses the same.
    /// A fresh head on a frozen encoder (transfer learning) learns much faster with 1e-3.
    /// </summary>
    public double? HeadLearningRate { get; init; }

    /// <summary>Decoupled weight decay of AdamW; never applied to biases and LayerNorm weights.</summary>
    public double WeightDecay { get; init; } = 0.01;

    /// <summary>AdamW β1.</summary>
    public double AdamBeta1 { get; init; } = 0.9;

    /// <summary>AdamW β2.</summary>
    public double AdamBeta2 { get; init; } = 0.999;

    /// <summary>AdamW ε.</summary>
    public double AdamEpsilon { get; init; } = 1e-8;

    /// <summary>The learning-rate schedule after warm-up.</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Linear;

    /// <summary>Share of all steps spent warming the learning rate up linearly from 0. Ignored when <see cref="WarmupSteps"/> is set.</summary>
    public double WarmupRatio { get; init; }

    /// <summary>Steps of linear warm-up; <c>null</c> derives them from <see cref="WarmupRatio"/>.</summary>
    public int? WarmupSteps { get; init; }

    /// <summary>
    /// Layer-wise learning-rate decay: the head and pooler get the full rate, the top layer rate × d, the next × d², …, the
    /// embeddings × d^(layers+1). Typical d: 0.8–0.95. <c>null</c> turns it off.
    /// </summary>
    public double? LayerwiseLearningRateDecay { get; init; }

    /// <summary>Clip the global gradient norm to this before each step; <c>null</c> or 0 turns clipping off.</summary>
    public double? MaxGradNorm { get; init; } = 1.0;

    /// <summary>Seed of the shuffling, dropout and anything else random: a seeded run reproduces its numbers exactly (same device and thread count).</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Longest input in tokens (longer texts are truncated); <c>null</c> is the model's and tokenizer's maximum.</summary>
    public int? MaxSequenceLength { get; init; }

    /// <summary>Batch texts of similar length together (randomly, in groups of 50 batches) to waste less work on padding.</summary>
    public bool GroupByLength { get; init; }

    /// <summary>Which parameters learn. The default trains everything.</summary>
    public FreezePolicy FreezePolicy { get; init; } = FreezePolicy.FullFineTuning();

    /// <summary>
    /// With the whole encoder frozen, compute each example's features once and train the head on them every epoch (dropout
    /// still applies to the cached features). Exact: frozen layers run in eval mode anyway.
    /// </summary>
    public bool CacheFrozenFeatures { get; init; } = true;

    /// <summary>
    /// Apply dropout inside frozen layers too (Hugging Face's behaviour with <c>requires_grad = false</c>). Off by default:
    /// a frozen feature extractor runs in eval mode, which is deterministic and lets features be cached.
    /// </summary>
    public bool DropoutInFrozenLayers { get; init; }

    /// <summary>When to evaluate on the validation set.</summary>
    public IntervalStrategy EvaluationStrategy { get; init; } = IntervalStrategy.Epoch;

    /// <summary>Evaluate every this many optimizer steps with <see cref="IntervalStrategy.Steps"/>.</summary>
    public int EvaluationSteps { get; init; } = 500;

    /// <summary>Log (ILogger, TensorBoard) the mean training loss every this many optimizer steps.</summary>
    public int LoggingSteps { get; init; } = 50;

    /// <summary>Stop when the metric has not improved for this many evaluations; <c>null</c> never stops early.</summary>
    public int? EarlyStoppingPatience { get; init; }

    /// <summary>Smallest change of the metric that counts as an improvement.</summary>
    public double EarlyStoppingThreshold { get; init; }

    /// <summary>The metric that picks the best model and drives early stopping.</summary>
    public BestModelMetric MetricForBestModel { get; init; } = BestModelMetric.Loss;

    /// <summary>Folder for checkpoints (<c>checkpoint-STEP</c>) and the best model (<c>best</c>); <c>null</c> saves nothing.</summary>
    public string? OutputDirectory { get; init; }

    /// <summary>When to write a resumable checkpoint into <see cref="OutputDirectory"/>.</summary>
    public IntervalStrategy SaveStrategy { get; init; } = IntervalStrategy.Epoch;

    /// <summary>Write a checkpoint every this many optimizer steps with <see cref="IntervalStrategy.Steps"/>.</summary>
    public int SaveSteps { get; init; } = 500;

    /// <summary>Keep at most this many checkpoints (oldest deleted first); <c>null</c> keeps all.</summary>
    public int? SaveTotalLimit { get; init; } = 2;

    /// <summary>
    /// Multi-label models: the probability at or above which a label counts as predicted when evaluating (subset accuracy,
    /// micro and macro F1, per-label figures in <see cref="EvaluationReport"/>). Default 0.5; serve with the same value
    /// (<see cref="TextClassifierOptions.MultiLabelThreshold"/>) so the served predictions are the evaluated ones.
    /// </summary>
    public float MultiLabelThreshold { get; init; } = 0.5f;

    /// <summary>Multi-label models: per-label evaluation thresholds by label name, overriding <see cref="MultiLabelThreshold"/>; <c>null</c>: none.</summary>
    public IReadOnlyDictionary<string, float>? LabelThresholds { get; init; }

    /// <summary>
    /// The one-call <see cref="FineTuner.Train(string, string, IReadOnlyList{LabeledExample}, IReadOnlyList{LabeledExample}?, FineTuningOptions?, IProgress{TrainingProgress}?, CancellationToken)"/>
    /// without <see cref="OutputDirectory"/>: keep its checkpoint folder (<c>outputDirectory.checkpoints</c>, with <c>checkpoint-STEP</c>
    /// and <c>best</c>) after a successful run. Default <c>false</c>: the checkpoints exist while training (a cancelled or failed
    /// run can resume from them) and are deleted once the model is saved, so only the model is left. With
    /// <see cref="OutputDirectory"/> set, checkpoints are always kept (as <see cref="SaveTotalLimit"/> says). The log says which applies.
    /// </summary>
    public bool KeepCheckpoints { get; init; }

    /// <summary>Save the best model so far (by <see cref="MetricForBestModel"/>) into <c>OutputDirectory/best</c>, loadable by <see cref="TextClassifier"/>.</summary>
    public bool SaveBestModel { get; init; } = true;

    /// <summary>After training, put the best model's weights back into the model (needs validation data).</summary>
    public bool LoadBestModelAtEnd { get; init; }

    /// <summary>A checkpoint folder (<c>checkpoint-STEP</c>) to resume from: model, optimizer, schedule and random state are restored and training continues as if never interrupted.</summary>
    public string? ResumeFromCheckpoint { get; init; }

    /// <summary>Folder for TensorBoard event files (train/loss, train/learning_rate, eval/*); <c>null</c> writes none.</summary>
    public string? TensorBoardDirectory { get; init; }

    /// <summary>
    /// Token classification: give every word piece its word's label (B- becomes I- after the first piece) instead of labelling
    /// only the first piece and ignoring the rest (Hugging Face's <c>label_all_tokens</c>; off by default, as there).
    /// </summary>
    public bool LabelAllTokens { get; init; }

    /// <summary>
    /// The arithmetic of forward and backward passes (training and evaluation): <see cref="TrainingPrecision.BFloat16"/> runs
    /// matrix products and attention in bf16 with fp32 weights, LayerNorms, loss and optimizer;
    /// <see cref="TrainingPrecision.Float16"/> (CUDA only, else an <see cref="ArgumentException"/> when training starts) adds
    /// dynamic loss scaling. Where the hardware has no fast bf16 a warning is logged; <see cref="TrainingReport.Precision"/>
    /// states what ran.
    /// </summary>
    public TrainingPrecision Precision { get; init; } = TrainingPrecision.Float32;

    /// <summary>
    /// Recompute each trainable encoder layer's activations in the backward pass instead of keeping them
    /// (<see cref="BertModel.GradientCheckpointing"/>): much less memory for long inputs, one more forward pass of compute per step (+45–80 % step time measured at 8 × 512),
    /// the same gradients.
    /// </summary>
    public bool GradientCheckpointing { get; init; }

    /// <summary>Your own <see cref="TrainerCallback"/>s, run after the built-in ones (progress, logging, TensorBoard, best model, early stopping, checkpoints).</summary>
    public IReadOnlyList<TrainerCallback> Callbacks { get; init; } = [];

    /// <summary>Receives the trainer's logs (and those of models it loads); <c>null</c> logs nothing.</summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> naming the option at fault.</summary>
    public void Validate()
    {
        Require(Epochs > 0 || MaxSteps is > 0, $"{nameof(Epochs)} must be positive (got {Epochs}) unless {nameof(MaxSteps)} is set.");
        Require(MaxSteps is null or > 0, $"{nameof(MaxSteps)} must be positive, got {MaxSteps}.");
        Require(BatchSize > 0, $"{nameof(BatchSize)} must be positive, got {BatchSize}.");
        Require(EvaluationBatchSize > 0, $"{nameof(EvaluationBatchSize)} must be positive, got {EvaluationBatchSize}.");
        Require(GradientAccumulationSteps > 0, $"{nameof(GradientAccumulationSteps)} must be positive, got {GradientAccumulationSteps}.");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), $"{nameof(LearningRate)} must be a positive number, got {LearningRate}.");
        Require(HeadLearningRate is null || (HeadLearningRate > 0 && double.IsFinite(HeadLearningRate.Value)), $"{nameof(HeadLearningRate)} must be a positive number, got {HeadLearningRate}.");
        Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), $"{nameof(WeightDecay)} must be non-negative, got {WeightDecay}.");
        Require(AdamBeta1 is >= 0 and < 1 && AdamBeta2 is >= 0 and < 1, $"Adam betas must be in [0, 1), got ({AdamBeta1}, {AdamBeta2}).");
        Require(AdamEpsilon >= 0, $"{nameof(AdamEpsilon)} must be non-negative, got {AdamEpsilon}.");
        Require(WarmupRatio is >= 0 and <= 1, $"{nameof(WarmupRatio)} must be in [0, 1], got {WarmupRatio}.");
        Require(WarmupSteps is null or >= 0, $"{nameof(WarmupSteps)} must be non-negative, got {WarmupSteps}.");
        Require(LayerwiseLearningRateDecay is null or (> 0 and <= 1), $"{nameof(LayerwiseLearningRateDecay)} must be in (0, 1], got {LayerwiseLearningRateDecay}.");
        Require(MaxGradNorm is null or >= 0, $"{nameof(MaxGradNorm)} must be non-negative, got {MaxGradNorm}.");
        Require(MaxSequenceLength is null or >= 2, $"{nameof(MaxSequenceLength)} must be at least 2 ([CLS] and [SEP]), got {MaxSequenceLength}.");
        Require(FreezePolicy is not null, $"{nameof(FreezePolicy)} must not be null.");
        Require(EvaluationSteps > 0, $"{nameof(EvaluationSteps)} must be positive, got {EvaluationSteps}.");
        Require(LoggingSteps > 0, $"{nameof(LoggingSteps)} must be positive, got {LoggingSteps}.");
        Require(SaveSteps > 0, $"{nameof(SaveSteps)} must be positive, got {SaveSteps}.");
        Require(EarlyStoppingPatience is null or > 0, $"{nameof(EarlyStoppingPatience)} must be positive, got {EarlyStoppingPatience}.");
        Require(SaveTotalLimit is null or > 0, $"{nameof(SaveTotalLimit)} must be positive, got {SaveTotalLimit}.");
        MultiLabelThresholds.Validate(MultiLabelThreshold, LabelThresholds, nameof(FineTuningOptions));
        Require(Enum.IsDefined(Precision), $"{nameof(Precision)} must be a {nameof(TrainingPrecision)}, got {(int)Precision}.");
        Require(Callbacks is not null && Callbacks.All(c => c is not null), $"{nameof(Callbacks)} must not be or contain null.");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message);
        }
    }
}

/// <summary>The learning-rate curve after warm-up.</summary>
public enum LearningRateSchedule
{
    /// <summary>Linear decay to 0 at the last step (Hugging Face's <c>get_linear_schedule_with_warmup</c>, the default).</summary>
    Linear,

    /// <summary>Constant after warm-up.</summary>
    Constant,

    /// <summary>Half a cosine down to 0 at the last step.</summary>
    Cosine,
}

/// <summary>When something happens during training.</summary>
public enum IntervalStrategy
{
    /// <summary>Never.</summary>
    No,

    /// <summary>At the end of every epoch.</summary>
    Epoch,

    /// <summary>Every N optimizer steps.</summary>
    Steps,
}
