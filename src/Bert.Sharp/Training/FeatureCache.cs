using Bert.Sharp.Inference;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Training;

/// <summary>
/// The head's input for every example under a fully frozen encoder, computed once (eval mode, no autograd) and reused by
/// every epoch: transfer learning then costs one encoder pass over the data instead of one per epoch. Features are one
/// vector per example ([examples, hidden], e.g. pooled) or one per token ([length, hidden] per example, padded with zeros
/// when gathered).
/// </summary>
internal sealed class FeatureCache : IDisposable
{
    private readonly Tensor? vectors;
    private readonly Tensor[]? sequences;

    private FeatureCache(Tensor? vectors, Tensor[]? sequences)
    {
        this.vectors = vectors;
        this.sequences = sequences;
    }

    public static FeatureCache Build(TrainingTask task, TaskDataset data, int batchSize, CancellationToken ct)
    {
        BertTaskModel model = task.Model;
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            Tensor? vectors = null;
            Tensor[]? sequences = null;
            foreach (int[] batch in LengthGroupedBatches.Plan(data.Lengths, batchSize))
            {
                ct.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                Tensor features = task.Features(data, batch);
                if (features.dim() == 2)
                {
                    vectors ??= zeros([data.Count, features.shape[1]], dtype: features.dtype, device: features.device).DetachFromDisposeScope();
                    vectors.index_copy_(0, tensor(batch.Select(i => (long)i).ToArray()).to(features.device), features);
                }
                else
                {
                    sequences ??= new Tensor[data.Count];
                    for (int r = 0; r < batch.Length; r++)
                    {
                        sequences[batch[r]] = features[r].narrow(0, 0, data.Lengths[batch[r]]).clone().DetachFromDisposeScope();
                    }
                }
            }

            return new FeatureCache(vectors, sequences);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>The features of <paramref name="batch"/> on <paramref name="device"/>, in batch order (in the current scope).</summary>
    public Tensor Gather(int[] batch, Device device)
    {
        if (vectors is not null)
        {
            return vectors.index_select(0, tensor(batch.Select(i => (long)i).ToArray()).to(device));
        }

        Tensor[] rows = [.. batch.Select(i => sequences![i])];
        long width = rows.Max(r => r.shape[0]);
        Tensor padded = zeros([rows.Length, width, rows[0].shape[1]], dtype: rows[0].dtype, device: rows[0].device);
        for (int r = 0; r < rows.Length; r++)
        {
            padded[r].narrow(0, 0, rows[r].shape[0]).copy_(rows[r]);
        }

        return padded.to(device);
    }

    public void Dispose()
    {
        vectors?.Dispose();
        if (sequences is not null)
        {
            foreach (Tensor? t in sequences)
            {
                t?.Dispose();
            }
        }
    }
}
