using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Bert.Sharp.Training;

/// <summary>
/// What the trainer needs from a task, and nothing else: its model, how to run a batch of its (encoded) examples to a loss,
/// how to compute the head's input once when the encoder is frozen, and how to turn outputs into metrics. A task is a model
/// class (head + loss) plus one of these; <see cref="FineTuner"/> runs any of them.
/// </summary>
internal abstract class TrainingTask
{
    /// <summary>The model being trained.</summary>
    public abstract BertTaskModel Model { get; }

    /// <summary>The padding id of the task's tokenizer.</summary>
    public abstract int PadTokenId { get; }

    /// <summary>The longest input the model and tokenizer allow.</summary>
    public abstract int ModelMaxLength { get; }

    /// <summary>The type of example <c>Train</c> takes (for messages).</summary>
    public abstract Type ExampleType { get; }

    /// <summary>The tokenizer saved with checkpoints and the best model, or <c>null</c>.</summary>
    public abstract BertTokenizer? Tokenizer { get; }

    /// <summary>
    /// Whether the head's input can be computed once and reused when the whole encoder is frozen (a head on fixed features).
    /// False for tasks whose loss needs the encoder itself (contrastive embeddings).
    /// </summary>
    public virtual bool CanCacheFeatures => true;

    /// <summary>Throws <see cref="ArgumentException"/> when an option makes no sense for this task (a metric it does not compute).</summary>
    public virtual void Validate(FineTuningOptions options)
    {
    }

    /// <summary>
    /// Runs <paramref name="batch"/> through the model (or through the head only, on <paramref name="cache"/>'s features) and
    /// returns the loss and the outputs metrics need. In the current dispose scope.
    /// </summary>
    public abstract BatchResult Forward(TaskDataset data, int[] batch, FeatureCache? cache);

    /// <summary>The head's input for <paramref name="batch"/> (the model in eval mode, no autograd): what a cache keeps.</summary>
    public abstract Tensor Features(TaskDataset data, int[] batch);

    /// <summary>A fresh accumulator for one evaluation over <paramref name="data"/>.</summary>
    public abstract EvaluationAccumulator StartEvaluation(TaskDataset data);
}

/// <summary>A task over examples of type <typeparamref name="TExample"/>: adds how to encode them.</summary>
internal abstract class TrainingTask<TExample> : TrainingTask
{
    /// <inheritdoc />
    public override Type ExampleType => typeof(TExample);

    /// <summary>Tokenizes and checks <paramref name="examples"/> (errors name the set and the example's index).</summary>
    public abstract TaskDataset Encode(IReadOnlyList<TExample> examples, string setName, int maxLength, ILogger logger);
}

/// <summary>Examples of one set, encoded: what the trainer batches (by index) and what the task reads back.</summary>
internal abstract class TaskDataset
{
    /// <summary>Number of examples.</summary>
    public abstract int Count { get; }

    /// <summary>Token count of each example (for length grouping).</summary>
    public abstract int[] Lengths { get; }

    /// <summary>
    /// A fingerprint of the examples' encoded inputs and targets, so a resumed run can check it continues on the same data.
    /// </summary>
    public abstract string Fingerprint { get; }
}

/// <summary>The loss of a batch (a scalar tensor) and the outputs an evaluation keeps (e.g. logits), both in the current scope.</summary>
internal readonly record struct BatchResult(Tensor Loss, Tensor Outputs);

/// <summary>Collects a task's outputs over an evaluation and turns them into a report.</summary>
internal abstract class EvaluationAccumulator
{
    /// <summary>Keeps what the report needs of <paramref name="outputs"/> for the examples <paramref name="batch"/>.</summary>
    public abstract void Add(int[] batch, Tensor outputs);

    /// <summary>The report, with <paramref name="meanLoss"/> as its loss.</summary>
    public abstract EvaluationReport Finish(double meanLoss);
}
