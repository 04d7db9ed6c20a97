using Bert.Sharp.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// Dense + tanh over the first ([CLS]) token (<c>pooler.dense.*</c>), trained by next-sentence prediction. A unit of
/// <see cref="BertModel"/>; sequence classifiers with <see cref="PoolingStrategy.Pooler"/> read it.
/// </summary>
public sealed class BertPooler : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly BertLinear dense;
#pragma warning restore IDE1006, SA1300

    internal BertPooler(BertConfig config) : base(nameof(BertPooler))
    {
        ArgumentNullException.ThrowIfNull(config);
        dense = new BertLinear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>Pools [batch, seq, hidden] into [batch, hidden].</summary>
    public override Tensor forward(Tensor hidden)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        using var scope = NewDisposeScope();
        using Tensor first = hidden.select(1, 0);
        return dense.call(first).tanh().MoveToOuterDisposeScope();
    }
}
