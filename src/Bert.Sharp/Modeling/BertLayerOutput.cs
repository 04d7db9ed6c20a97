using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>
/// The feed-forward contraction, dropout, residual and LayerNorm (<c>output.*</c> of a layer; Hugging Face calls
/// the class BertOutput, a name this library gives to the model's result).
/// </summary>
public sealed class BertLayerOutput : nn.Module<Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly Linear dense;
    private readonly LayerNorm LayerNorm;
    private readonly FastDropout dropout;
#pragma warning restore IDE1006, SA1300

    /// <summary>Creates the block of <paramref name="config"/>.</summary>
    public BertLayerOutput(BertConfig config) : base(nameof(BertLayerOutput))
    {
        ArgumentNullException.ThrowIfNull(config);
        dense = nn.Linear(config.IntermediateSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        dropout = new FastDropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <summary>Applies <c>LayerNorm(dropout(dense(intermediate)) + residual)</c>.</summary>
    public override Tensor forward(Tensor intermediate, Tensor residual)
    {
        using var scope = NewDisposeScope();
        return LayerNorm.forward(dropout.forward(dense.forward(intermediate)) + residual).MoveToOuterDisposeScope();
    }
}
