using Bert.Sharp.Inference;
using Bert.Sharp.Training;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// The training glue of a task whose head reads the encoder's features (sequence and token classification): the batch is
/// collated and run through the encoder and head, or, with the features of a frozen encoder cached, through the head alone;
/// the task supplies the model calls, the labels and the metrics.
/// </summary>
/// <typeparam name="TExample">The task's example type.</typeparam>
/// <param name="model">The task model.</param>
/// <param name="encoder">The text encoder the examples are encoded with.</param>
/// <param name="tokenizer">The tokenizer saved with checkpoints.</param>
internal abstract class FeatureHeadTask<TExample>(BertTaskModel model, ITextEncoder encoder, BertTokenizer? tokenizer) : TrainingTask<TExample>
{
    public override BertTaskModel Model => model;

    public int PadTokenId => encoder.PadTokenId;

    public override int ModelMaxLength => Math.Min(model.Bert.Config.MaxSequenceLength, encoder.ModelMaxLength);

    public override BertTokenizer? Tokenizer => tokenizer;

    // The head reads fixed features (pooled or per token): a frozen encoder's are computed once.
    public override bool CanCacheFeatures => true;

    /// <summary>The text encoder the examples are encoded with.</summary>
    protected ITextEncoder Encoder => encoder;

    public override (Tensor Loss, Tensor Outputs) Forward(TaskDataset data, int[] batch, Tensor? features)
    {
        var set = (EncodedTaskDataset)data;
        Tensor logits;
        if (features is null)
        {
            (Tensor ids, Tensor mask, Tensor types) = TensorBatch.Collate(set.Inputs, batch, PadTokenId, model.Device);
            logits = Logits(ids, mask, types);
        }
        else
        {
            logits = HeadLogits(features);
        }

        return (Loss(logits, set, batch), logits);
    }

    public override Tensor Features(TaskDataset data, int[] batch)
    {
        var set = (EncodedTaskDataset)data;
        (Tensor ids, Tensor mask, Tensor types) = TensorBatch.Collate(set.Inputs, batch, PadTokenId, model.Device);
        return EncoderFeatures(ids, mask, types);
    }

    /// <summary>The model's logits of a collated batch (encoder and head).</summary>
    protected abstract Tensor Logits(Tensor inputIds, Tensor attentionMask, Tensor tokenTypeIds);

    /// <summary>The head's logits of cached encoder features.</summary>
    protected abstract Tensor HeadLogits(Tensor features);

    /// <summary>The encoder features the head reads, for a collated batch.</summary>
    protected abstract Tensor EncoderFeatures(Tensor inputIds, Tensor attentionMask, Tensor tokenTypeIds);

    /// <summary>The loss of <paramref name="logits"/> against the labels of <paramref name="batch"/> in <paramref name="set"/>.</summary>
    protected abstract Tensor Loss(Tensor logits, EncodedTaskDataset set, int[] batch);
}
