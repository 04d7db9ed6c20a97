using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Training;

/// <summary>
/// The pooled features of every example under a fully frozen encoder, computed once (eval mode, no autograd) and
/// reused by every epoch: transfer learning then costs one encoder pass over the data instead of one per epoch.
/// </summary>
internal sealed class FeatureCache : IDisposable
{
    private FeatureCache(Tensor features) => Features = features;

    /// <summary>[examples, hidden] on the model's device.</summary>
    public Tensor Features { get; }

    public static FeatureCache Build(BertForSequenceClassification model, EncodedDataset data, int batchSize, int padId, CancellationToken ct)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            int hidden = model.Head.HiddenSize;
            Tensor all = zeros([data.Count, hidden], device: model.Device);
            int frozenUnits = model.Bert.Layers.Count + 2;
            foreach (int[] batch in Batching.EvaluationBatches(data.Lengths, batchSize))
            {
                ct.ThrowIfCancellationRequested();
                using var batchScope = NewDisposeScope();
                (Tensor ids, Tensor mask, Tensor types) = Batching.Collate(data.Examples, batch, padId, model.Device);
                Tensor features = model.Features(ids, mask, types, frozenUnits);
                all.index_copy_(0, tensor(batch.Select(i => (long)i).ToArray()).to(model.Device), features);
            }

            return new FeatureCache(all.MoveToOuterDisposeScope());
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    public void Dispose() => Features.Dispose();
}
