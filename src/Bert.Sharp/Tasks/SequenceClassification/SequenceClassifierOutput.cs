using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>What <see cref="BertForSequenceClassification.Forward"/> returns. Disposing it disposes its tensors.</summary>
public sealed class SequenceClassifierOutput : IDisposable
{
    /// <summary>Creates an output.</summary>
    public SequenceClassifierOutput(Tensor logits, Tensor? loss)
    {
        Logits = logits ?? throw new ArgumentNullException(nameof(logits));
        Loss = loss;
    }

    /// <summary>Raw scores [batch, labels]: softmax them for single-label, sigmoid for multi-label; the values themselves for regression.</summary>
    public Tensor Logits { get; }

    /// <summary>The loss for the given labels (a scalar), or <c>null</c> when no labels were given.</summary>
    public Tensor? Loss { get; }

    /// <summary>
    /// The forward of a classifier (sequence or token): <paramref name="logits"/> computes the logits, and with
    /// <paramref name="labels"/> <paramref name="loss"/> the loss, in one dispose scope from which only the output escapes.
    /// </summary>
    internal static SequenceClassifierOutput Compute(Func<Tensor> logits, Tensor? labels, Func<Tensor, Tensor, Tensor> loss)
    {
        using var scope = NewDisposeScope();
        Tensor scores = logits();
        Tensor? value = labels is null ? null : loss(scores, labels);
        return new SequenceClassifierOutput(scores.MoveToOuterDisposeScope(), value?.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// A classifier's loss: <paramref name="loss"/> of <paramref name="logits"/> and <paramref name="labels"/> (moved to the
    /// logits' device), in one dispose scope from which only the loss escapes.
    /// </summary>
    internal static Tensor ScopedLoss(Tensor logits, Tensor labels, Func<Tensor, Tensor, Tensor> loss)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        using var scope = NewDisposeScope();
        Tensor target = labels.device == logits.device ? labels : labels.to(logits.device);
        return loss(logits, target).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Logits.Dispose();
        Loss?.Dispose();
    }
}
