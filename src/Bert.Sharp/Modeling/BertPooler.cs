using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>Dense + tanh over the first ([CLS]) token (<c>pooler.dense.*</c>), trained by next-sentence prediction.</summary>
public sealed class BertPooler : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly Linear dense;
#pragma warning restore IDE1006, SA1300

    /// <summary>Creates the pooler of <paramref name="config"/>.</summary>
    public BertPooler(BertConfig config) : base(nameof(BertPooler))
    {
        ArgumentNullException.ThrowIfNull(config);
        dense = nn.Linear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>Pools [batch, seq, hidden] into [batch, hidden].</summary>
    public override Tensor forward(Tensor hidden)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        using var scope = NewDisposeScope();
        using Tensor first = hidden.select(1, 0);
        return dense.forward(first).tanh().MoveToOuterDisposeScope();
    }
}
