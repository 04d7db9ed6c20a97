using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>DistilBERT's feed-forward block (<c>ffn.lin1</c>, <c>ffn.lin2</c>): <c>dropout(lin2(act(lin1(x))))</c>, as Hugging Face's <c>FFN</c>.</summary>
internal sealed class DistilBertFeedForward : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly BertLinear lin1;
    private readonly BertLinear lin2;
    private readonly FastDropout dropout;
#pragma warning restore IDE1006, SA1300
    private readonly Func<Tensor, Tensor> activation;

    public DistilBertFeedForward(BertConfig config) : base(nameof(DistilBertFeedForward))
    {
        ArgumentNullException.ThrowIfNull(config);
        lin1 = new BertLinear(config.HiddenSize, config.IntermediateSize);
        lin2 = new BertLinear(config.IntermediateSize, config.HiddenSize);
        dropout = new FastDropout(config.HiddenDropoutProb);
        activation = Activations.Get(config.HiddenAct);
        RegisterComponents();
    }

    /// <summary>Applies the block to [batch, seq, hidden] (or [tokens, hidden]).</summary>
    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return dropout.call(lin2.call(activation(lin1.call(hidden)))).MoveToOuterDisposeScope();
    }
}
