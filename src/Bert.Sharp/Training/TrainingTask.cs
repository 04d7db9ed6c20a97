using Bert.Sharp.Inference;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// What <see cref="FineTuner"/> needs from a task, and nothing else: the model, how to run a batch of encoded examples to a
/// loss, and how to turn the outputs into metrics. A task is a model class (a <see cref="BertTaskModel"/> with its head) plus
/// one of these, created by the model (<see cref="ITrainableTaskModel.CreateTrainingTask"/> for a task of your own); derive from <see cref="TrainingTask{TExample}"/> to add one.
/// </summary>
/// <remarks>
/// The trainer calls the members in this order: <see cref="TrainingTask{TExample}.Encode"/> once per set, then for every batch
/// <see cref="Forward"/> (training mode with autograd, or evaluation mode without) and, when evaluating,
/// <see cref="StartEvaluation"/>'s accumulator. Everything runs inside the trainer's dispose scopes: return tensors, do not
/// dispose them.
/// </remarks>
public abstract class TrainingTask
{
    /// <summary>Creates the task; derive from <see cref="TrainingTask{TExample}"/> (this class cannot be derived from directly).</summary>
    protected TrainingTask()
    {
    }

    /// <summary>The model being trained.</summary>
    public abstract BertTaskModel Model { get; }

    /// <summary>The tokenizer saved with checkpoints and the best model, or <c>null</c> for none.</summary>
    public abstract BertTokenizer? Tokenizer { get; }

    /// <summary>The <c>tokenizer.json</c> tokenizer saved with checkpoints and the best model instead of <see cref="Tokenizer"/>
    /// (a RoBERTa / XLM-R model trained with <see cref="SubwordTokenizer"/>); <c>null</c> for none.</summary>
    internal SubwordTokenizer? SubwordTokenizer { get; set; }

    /// <summary>Saves the model with whichever tokenizer it trains with.</summary>
    internal void SaveModel(string directory)
    {
        if (SubwordTokenizer is { } subword)
        {
            Model.SavePretrained(directory, subword);
        }
        else
        {
            Model.SavePretrained(directory, Tokenizer);
        }
    }

    /// <summary>The longest input the model and tokenizer allow; by default the smaller of the encoder's position embeddings and the tokenizer's limit.</summary>
    public virtual int ModelMaxLength => Math.Min(Model.Bert.Config.MaxPositionEmbeddings, Tokenizer?.ModelMaxLength ?? int.MaxValue);

    /// <summary>The type of example <c>Train</c> takes (for messages).</summary>
    internal abstract Type ExampleType { get; }

    /// <summary>
    /// Whether the head's input can be computed once and reused when the whole encoder is frozen (a head on fixed features):
    /// then <see cref="Features"/> must be implemented. False by default, and for tasks whose loss needs the encoder itself.
    /// </summary>
    public virtual bool CanCacheFeatures => false;

    /// <summary>Throws <see cref="ArgumentException"/> when an option makes no sense for this task (a metric it does not compute).</summary>
    /// <param name="options">The trainer's options.</param>
    public virtual void Validate(FineTuningOptions options)
    {
    }

    /// <summary>
    /// Runs <paramref name="batch"/> through the model — or through the head only, on <paramref name="features"/> — and returns
    /// the loss (a scalar) and the outputs <see cref="EvaluationAccumulator.Add"/> needs (e.g. logits), both in the current dispose scope.
    /// </summary>
    /// <param name="data">The set <paramref name="batch"/> indexes, as <see cref="TrainingTask{TExample}.Encode"/> returned it.</param>
    /// <param name="batch">Indices of the batch's examples in <paramref name="data"/>.</param>
    /// <param name="features">The head's input for the batch (what <see cref="Features"/> returned, on the model's device) when the
    /// encoder is frozen and its features are cached; <c>null</c> otherwise: run the whole model.</param>
    public abstract (Tensor Loss, Tensor Outputs) Forward(TaskDataset data, int[] batch, Tensor? features);

    /// <summary>
    /// The head's input for <paramref name="batch"/> — one vector per example [batch, hidden] or one per token [batch, length,
    /// hidden] — what a feature cache keeps. Called in evaluation mode without autograd, only when <see cref="CanCacheFeatures"/>.
    /// </summary>
    /// <param name="data">The set <paramref name="batch"/> indexes.</param>
    /// <param name="batch">Indices of the batch's examples in <paramref name="data"/>.</param>
    /// <exception cref="NotSupportedException">The task does not cache features (the default).</exception>
    public virtual Tensor Features(TaskDataset data, int[] batch) =>
        throw new NotSupportedException($"{GetType().Name} does not cache features: override Features as well as CanCacheFeatures.");

    /// <summary>A fresh accumulator for one evaluation over <paramref name="data"/>.</summary>
    /// <param name="data">The evaluation set.</param>
    public abstract EvaluationAccumulator StartEvaluation(TaskDataset data);

    /// <summary>
    /// Pads the rows <paramref name="batch"/> of an unpadded <paramref name="encoding"/> to the longest among them and returns
    /// input ids, attention mask and token type ids as int64 tensors [batch, length] on <paramref name="device"/> (in the current dispose scope).
    /// </summary>
    /// <param name="encoding">What <see cref="BertTokenizer.EncodeBatch(IReadOnlyList{string}, EncodingOptions?)"/> returned, without padding.</param>
    /// <param name="batch">Indices of the rows to collate.</param>
    /// <param name="padTokenId">The tokenizer's padding id.</param>
    /// <param name="device">Where the tensors go (the model's device).</param>
    /// <exception cref="ArgumentException">A row of <paramref name="encoding"/> is padded already; the message names it.</exception>
    protected static (Tensor InputIds, Tensor AttentionMask, Tensor TokenTypeIds) Collate(BatchEncoding encoding, int[] batch, int padTokenId, Device device)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        ArgumentNullException.ThrowIfNull(batch);
        var rows = new EncodedText[batch.Length];
        for (int r = 0; r < batch.Length; r++)
        {
            int i = batch[r];
            if (encoding.AttentionMask[i].Contains(0))
            {
                throw new ArgumentException($"Row {i} of the encoding is padded; encode with EncodingOptions.Padding = PaddingStrategy.None and let Collate pad each batch.", nameof(encoding));
            }

            rows[r] = new EncodedText(encoding.InputIds[i], encoding.TokenTypeIds[i]);
        }

        return TensorBatch.Collate(rows, [.. Enumerable.Range(0, rows.Length)], padTokenId, device);
    }
}

/// <summary>
/// A task over examples of type <typeparamref name="TExample"/>: <see cref="TrainingTask"/> plus how to encode them. Derive
/// from it to add a task (a head, its loss and metrics) that <see cref="FineTuner"/> trains like the built-in ones.
/// </summary>
/// <typeparam name="TExample">The examples <see cref="FineTuner.Train{TExample}"/> takes for this task.</typeparam>
public abstract class TrainingTask<TExample> : TrainingTask
{
    /// <summary>Creates the task.</summary>
    protected TrainingTask()
    {
    }

    /// <inheritdoc />
    internal sealed override Type ExampleType => typeof(TExample);

    /// <summary>
    /// Tokenizes and checks <paramref name="examples"/> once per set; errors name the set and the example's index.
    /// </summary>
    /// <param name="examples">The examples of one set.</param>
    /// <param name="setName">"training", "validation" or "evaluation", for messages.</param>
    /// <param name="maxLength">The longest encoding allowed (truncate to it).</param>
    /// <param name="logger">The trainer's logger (truncation and the like).</param>
    /// <returns>The encoded set that <see cref="TrainingTask.Forward"/> reads back by index.</returns>
    /// <exception cref="ArgumentException">The set is empty or an example is invalid.</exception>
    public abstract TaskDataset Encode(IReadOnlyList<TExample> examples, string setName, int maxLength, ILogger logger);
}
