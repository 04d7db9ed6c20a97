using Bert.Sharp.Inference;
using Bert.Sharp.Runtime;
using static TorchSharp.torch;

namespace Bert.Sharp.Training;

/// <summary>One pass over an evaluation set: eval mode, no autograd, length-sorted batches, the run's precision, the task's metrics.</summary>
internal static class Evaluation
{
    public static EvaluationReport Run(TrainingTask task, TaskDataset data, FeatureCache? cache, int batchSize, MixedPrecision precision, CancellationToken ct)
    {
        BertTaskModel model = task.Model;
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            EvaluationAccumulator accumulator = task.StartEvaluation(data);
            double lossSum = 0;
            foreach (int[] batch in LengthGroupedBatches.Plan(data.Lengths, batchSize))
            {
                ct.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                (Tensor Loss, Tensor Outputs) result;
                using (IDisposable? autocast = precision.Enter())
                {
                    result = task.Forward(data, batch, cache?.Gather(batch, model.Device));
                }

                lossSum += Runtime.HostRead.Item<float>(result.Loss.to(ScalarType.Float32)) * batch.Length;
                accumulator.Add(batch, result.Outputs);
            }

            return accumulator.Finish(lossSum / data.Count);
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
