using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>
/// Projection back to the hidden size, dropout, residual and LayerNorm: <c>LayerNorm(dropout(dense(x)) + residual)</c>.
/// Hugging Face's <c>BertOutput</c> (after the feed-forward expansion, keys <c>output.*</c>, input width = intermediate
/// size). Hugging Face's <c>BertSelfOutput</c> (after attention, keys <c>attention.output.*</c>) is the same block with input
/// width = hidden size, so it is this class too.
/// </summary>
internal sealed class BertOutput : nn.Module<Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly BertLinear dense;
    private readonly LayerNorm LayerNorm;
    private readonly FastDropout dropout;
#pragma warning restore IDE1006, SA1300

    public BertOutput(BertConfig config, int inputSize) : base(nameof(BertOutput))
    {
        ArgumentNullException.ThrowIfNull(config);
        dense = new BertLinear(inputSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        dropout = new FastDropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <summary>Applies <c>LayerNorm(dropout(dense(input)) + residual)</c>.</summary>
    public override Tensor forward(Tensor input, Tensor residual)
    {
        using var scope = NewDisposeScope();
        return LayerNorm.call(Runtime.HeldScalars.Add(dropout.call(dense.call(input)), residual)).MoveToOuterDisposeScope();
    }
}
