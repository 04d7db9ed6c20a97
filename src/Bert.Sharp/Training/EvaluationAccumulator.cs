using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>Collects a task's outputs over one evaluation and turns them into an <see cref="EvaluationReport"/>.</summary>
public abstract class EvaluationAccumulator
{
    /// <summary>Keeps what the report needs of <paramref name="outputs"/> (copy it to the host: the tensor is disposed after the batch).</summary>
    /// <param name="batch">Indices of the batch's examples in the evaluation set.</param>
    /// <param name="outputs">The outputs <see cref="TrainingTask.Forward"/> returned for the batch.</param>
    public abstract void Add(int[] batch, Tensor outputs);

    /// <summary>The report, with <paramref name="meanLoss"/> as its loss.</summary>
    /// <param name="meanLoss">The mean loss over the evaluation set.</param>
    public abstract EvaluationReport Finish(double meanLoss);
}
