using System.Diagnostics;
using Bert.Sharp.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// Trains a <see cref="BertForSequenceClassification"/> on labelled texts: transfer learning or fine-tuning as the
/// <see cref="FreezePolicy"/> says, with AdamW, warm-up and decay, clipping, accumulation, evaluation, early stopping,
/// checkpoints that resume exactly, cancellation, progress, logging and TensorBoard.
/// </summary>
/// <remarks>
/// <code>
/// var report = new FineTuner(model, tokenizer, options, logger).Train(train, validation, progress, ct);
/// </code>
/// One instance trains one model; <c>Train</c> may be called again (a new run continuing from the current weights
/// with a fresh optimizer). Not thread-safe: one call at a time.
/// </remarks>
public sealed partial class FineTuner
{
    private readonly BertForSequenceClassification model;
    private readonly ITextEncoder encoder;
    private readonly Action<string>? writeTokenizer;
    private readonly ILogger logger;

    internal FineTuner(BertForSequenceClassification model, ITextEncoder encoder, Action<string>? writeTokenizer, FineTuningOptions? options, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(encoder);
        this.model = model;
        this.encoder = encoder;
        this.writeTokenizer = writeTokenizer;
        Options = options ?? new FineTuningOptions();
        Options.Validate();
        this.logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The options of every run of this trainer.</summary>
    public FineTuningOptions Options { get; }

    /// <summary>The model being trained.</summary>
    public BertForSequenceClassification Model => model;

    /// <summary>
    /// Trains on <paramref name="train"/>, evaluating on <paramref name="validation"/> as <see cref="FineTuningOptions.EvaluationStrategy"/> says.
    /// </summary>
    /// <param name="train">The training examples; their labels must be the model's.</param>
    /// <param name="validation">Examples to evaluate on (best model, early stopping); <c>null</c> for none.</param>
    /// <param name="progress">Receives a <see cref="TrainingProgress"/> after every optimizer step and evaluation.</param>
    /// <param name="cancellationToken">
    /// Checked before every optimizer step (and during evaluations and feature caching). On cancellation a complete
    /// checkpoint is written first (with an output directory) and <see cref="TrainingCanceledException"/> is thrown.
    /// </param>
    /// <returns>The whole history of the run.</returns>
    /// <exception cref="ArgumentException">An empty set, an example with an empty text or an unknown label; the message names the example.</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    /// <exception cref="TrainingCanceledException">The token was cancelled.</exception>
    /// <exception cref="UnauthorizedAccessException">The output or TensorBoard directory is not writable (checked before training starts).</exception>
    public TrainingReport Train(IReadOnlyList<LabeledExample> train, IReadOnlyList<LabeledExample>? validation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (Options.MetricForBestModel != BestModelMetric.Loss && model.ProblemType == ProblemType.Regression)
        {
            throw new ArgumentException($"MetricForBestModel = {Options.MetricForBestModel} needs a classification model; use Loss for regression.");
        }

        if (Options.OutputDirectory is not null)
        {
            AtomicDirectory.RequireWritable(Options.OutputDirectory, "output directory");
        }

        if (Options.TensorBoardDirectory is not null)
        {
            AtomicDirectory.RequireWritable(Options.TensorBoardDirectory, "TensorBoard directory");
        }

        int maxLength = MaxLength();
        EncodedDataset trainSet = EncodedDataset.Create(train, encoder, model, maxLength, "training", logger);
        EncodedDataset? validationSet = validation is null ? null : EncodedDataset.Create(validation, encoder, model, maxLength, "validation", logger);
        using var run = new TrainingRun(this, trainSet, validationSet, progress, cancellationToken);
        return run.Execute();
    }

    /// <summary>Evaluates the model on any labelled set: loss, accuracy, macro precision/recall/F1, confusion matrix (or MSE/MAE for regression).</summary>
    /// <exception cref="ArgumentException">The set is empty, or an example has an unknown label (named with its index).</exception>
    public EvaluationReport Evaluate(IReadOnlyList<LabeledExample> examples, CancellationToken cancellationToken = default)
    {
        EncodedDataset data = EncodedDataset.Create(examples, encoder, model, MaxLength(), "evaluation", logger);
        return Evaluate(model, data, null, Options.EvalBatchSize, encoder.PadTokenId, cancellationToken);
    }

    /// <summary>How many parameter tensors the optimizer of the last run held state for (tests: only trainable ones).</summary>
    internal int LastOptimizerStateCount { get; private set; }

    internal static EvaluationReport Evaluate(BertForSequenceClassification model, EncodedDataset data, FeatureCache? cache, int batchSize, int padId, CancellationToken ct)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            int n = data.Count;
            int k = model.NumLabels;
            float[][] outputs = new float[n][];
            double lossSum = 0;
            foreach (int[] batch in Batching.EvaluationBatches(data.Lengths, batchSize))
            {
                ct.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                Tensor logits = cache is null
                    ? Logits(model, data, batch, padId, 0)
                    : model.Head.forward(cache.Features.index_select(0, tensor(batch.Select(i => (long)i).ToArray()).to(model.Device)));
                Tensor labels = Batching.Labels(data.Examples, batch, model.ProblemType, k, model.Device);
                lossSum += model.ComputeLoss(logits, labels).item<float>() * batch.Length;
                float[] flat = logits.to(ScalarType.Float32).cpu().data<float>().ToArray();
                for (int r = 0; r < batch.Length; r++)
                {
                    outputs[batch[r]] = flat[(r * k)..((r + 1) * k)];
                }
            }

            double loss = lossSum / n;
            switch (model.ProblemType)
            {
                case ProblemType.SingleLabelClassification:
                    int[] actual = [.. data.Examples.Select(e => e.ClassId)];
                    int[] predicted = [.. outputs.Select(ArgMax)];
                    return ClassificationMetrics.SingleLabel(model.Labels, actual, predicted, loss);
                case ProblemType.MultiLabelClassification:
                    bool[][] actualSets = [.. data.Examples.Select(e => e.Target.Select(t => t > 0.5f).ToArray())];
                    bool[][] predictedSets = [.. outputs.Select(o => o.Select(v => v > 0f).ToArray())];
                    return ClassificationMetrics.MultiLabel(model.Labels, actualSets, predictedSets, loss);
                default:
                    return ClassificationMetrics.Regression(model.Labels, [.. data.Examples.Select(e => e.Target)], outputs, loss);
            }
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    private static Tensor Logits(BertForSequenceClassification model, EncodedDataset data, int[] batch, int padId, int frozenUnits)
    {
        (Tensor ids, Tensor mask, Tensor types) = Batching.Collate(data.Examples, batch, padId, model.Device);
        return model.Head.forward(model.Features(ids, mask, types, frozenUnits));
    }

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    private int MaxLength() =>
        Math.Min(Options.MaxSequenceLength ?? int.MaxValue, Math.Min(model.Bert.Config.MaxPositionEmbeddings, encoder.ModelMaxLength));
}
