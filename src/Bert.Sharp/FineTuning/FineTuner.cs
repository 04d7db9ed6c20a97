using Bert.Sharp.Inference;
using Bert.Sharp.Runtime;
using Bert.Sharp.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// Trains any <see cref="BertTaskModel"/> — sequence classification, token classification, sentence embeddings — with
/// transfer learning or fine-tuning as the <see cref="FreezePolicy"/> says: AdamW, warm-up and decay, clipping, accumulation,
/// evaluation, early stopping, best model, checkpoints that resume exactly, cancellation, progress, logging, TensorBoard.
/// </summary>
/// <remarks>
/// <code>
/// var report = new FineTuner(model, tokenizer, options).Train(train, validation, progress, ct);
/// </code>
/// The model decides what examples <c>Train</c> takes: <see cref="LabeledExample"/> for <see cref="BertForSequenceClassification"/>,
/// <see cref="TaggedSentence"/> for <see cref="BertForTokenClassification"/>, <see cref="TextPair"/> for
/// <see cref="BertForSentenceEmbedding"/>, and for a task model of your own the examples of the <see cref="TrainingTask{TExample}"/>
/// its <c>CreateTrainingTask</c> returns. One instance trains one model; <c>Train</c> may be called again (a new run
/// continuing from the current weights with a fresh optimizer). Not thread-safe: one call at a time.
/// </remarks>
public sealed partial class FineTuner
{
    private readonly TrainingTask task;
    private readonly ILogger logger;

    /// <summary>Creates a trainer for <paramref name="model"/>, tokenizing with <paramref name="tokenizer"/>.</summary>
    /// <param name="model">The model to train (usually from its <c>FromPretrained</c>).</param>
    /// <param name="tokenizer">The tokenizer of the model's checkpoint; written into every checkpoint and best-model folder.</param>
    /// <param name="options">Training settings (including the logger factory); <c>null</c> for Hugging Face's defaults (full fine-tuning, 3 epochs).</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public FineTuner(BertTaskModel model, BertTokenizer tokenizer, FineTuningOptions? options = null)
        : this(model, new TokenizerTextEncoder(tokenizer ?? throw new ArgumentNullException(nameof(tokenizer))), tokenizer, options)
    {
    }

    /// <summary>
    /// Creates a trainer for a model whose tokenizer is a <see cref="SubwordTokenizer"/> (RoBERTa's byte-level BPE, XLM-R's
    /// Unigram; from <see cref="AutoTokenizer.FromPretrained"/>). Texts are padded with the model's <c>pad_token_id</c>.
    /// Checkpoints and best-model folders hold the tokenizer's files beside the weights (as
    /// <see cref="BertTaskModel.SavePretrained(string, SubwordTokenizer)"/> writes them), so each is a servable folder.
    /// </summary>
    /// <param name="model">The model to train.</param>
    /// <param name="tokenizer">The tokenizer of the model's checkpoint.</param>
    /// <param name="options">Training settings; <c>null</c> for Hugging Face's defaults.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public FineTuner(BertTaskModel model, SubwordTokenizer tokenizer, FineTuningOptions? options = null)
        : this(
            model ?? throw new ArgumentNullException(nameof(model)),
            new SubwordTextEncoder(tokenizer ?? throw new ArgumentNullException(nameof(tokenizer)), model.Bert.Config.PadTokenId, int.MaxValue),
            null,
            options)
    {
        task.SubwordTokenizer = tokenizer;
    }

    internal FineTuner(BertTaskModel model, ITextEncoder encoder, BertTokenizer? tokenizer, FineTuningOptions? options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(encoder);
        Options = options ?? new FineTuningOptions();
        Options.Validate();
        task = model switch
        {
            IBuiltInTrainable builtIn => builtIn.CreateTask(encoder, tokenizer, Options),
            ITrainableTaskModel own => own.CreateTrainingTask(tokenizer ?? throw new ArgumentNullException(nameof(tokenizer), $"{model.GetType().Name} trains with a BertTokenizer."), Options),
            _ => throw new NotSupportedException($"{model.GetType().Name} defines no training task: implement ITrainableTaskModel (CreateTrainingTask returns a TrainingTask<TExample> for it)."),
        };
        task.Validate(Options);
        logger = Options.LoggerFactory?.CreateLogger<FineTuner>() ?? NullLogger<FineTuner>.Instance;
    }

    /// <summary>The options of every run of this trainer.</summary>
    public FineTuningOptions Options { get; }

    /// <summary>The model being trained.</summary>
    public BertTaskModel Model => task.Model;

    /// <summary>
    /// Trains on <paramref name="train"/>, evaluating on <paramref name="validation"/> as <see cref="FineTuningOptions.EvaluationStrategy"/> says.
    /// </summary>
    /// <typeparam name="TExample">The model's kind of example (see the class remarks).</typeparam>
    /// <param name="train">The training examples; their labels must be the model's.</param>
    /// <param name="validation">Examples to evaluate on (best model, early stopping); <c>null</c> for none.</param>
    /// <param name="progress">Receives a <see cref="TrainingProgress"/> after every optimizer step and evaluation.</param>
    /// <param name="cancellationToken">
    /// Checked before every optimizer step (and during evaluations and feature caching). On cancellation a complete
    /// checkpoint is written first (with an output directory) and <see cref="TrainingCanceledException"/> is thrown.
    /// </param>
    /// <returns>The whole history of the run.</returns>
    /// <exception cref="ArgumentException">An empty set, an example of the wrong kind, with an empty text or an unknown label; the message names the example.</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    /// <exception cref="TrainingCanceledException">The token was cancelled.</exception>
    /// <exception cref="UnauthorizedAccessException">The output or TensorBoard directory is not writable (checked before training starts).</exception>
    public TrainingReport Train<TExample>(IReadOnlyList<TExample> train, IReadOnlyList<TExample>? validation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        TrainingTask<TExample> typed = Typed<TExample>();
        if (Options.OutputDirectory is not null)
        {
            AtomicDirectory.RequireWritable(Options.OutputDirectory, "output directory");
        }

        if (Options.TensorBoardDirectory is not null)
        {
            AtomicDirectory.RequireWritable(Options.TensorBoardDirectory, "TensorBoard directory");
        }

        int maxLength = MaxLength();
        TaskDataset trainSet = typed.Encode(train, "training", maxLength, logger);
        TaskDataset? validationSet = validation is null ? null : typed.Encode(validation, "validation", maxLength, logger);
        using var run = new TrainingRun(task, Options, trainSet, validationSet, progress, logger, cancellationToken);
        return run.Execute();
    }

    /// <summary>Evaluates the model on any labelled set of its kind: loss and the task's metrics.</summary>
    /// <exception cref="ArgumentException">The set is empty, or an example is of the wrong kind or has an unknown label (named with its index).</exception>
    public EvaluationReport Evaluate<TExample>(IReadOnlyList<TExample> examples, CancellationToken cancellationToken = default)
    {
        TaskDataset data = Typed<TExample>().Encode(examples, "evaluation", MaxLength(), logger);
        MixedPrecision precision = MixedPrecision.Resolve(Options.Precision, task.Model.Device, $"{nameof(FineTuningOptions)}.{nameof(FineTuningOptions.Precision)}");
        precision.Log(logger, "Evaluation");
        return Evaluation.Run(task, data, null, Options.EvaluationBatchSize, precision, cancellationToken);
    }

    private TrainingTask<TExample> Typed<TExample>() => task as TrainingTask<TExample>
        ?? throw new ArgumentException($"{task.Model.GetType().Name} trains on {task.ExampleType.Name} examples, not {typeof(TExample).Name}.");

    private int MaxLength() => Math.Min(Options.MaxSequenceLength ?? int.MaxValue, task.ModelMaxLength);
}
