using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>
/// Projection back to the hidden size, dropout, residual and LayerNorm: <c>LayerNorm(dropout(dense(x)) + residual)</c>.
/// BERT uses it twice per layer — after attention (<c>attention.output.*</c>, input = hidden size; Hugging Face's
/// BertSelfOutput) and after the feed-forward expansion (<c>output.*</c>, input = intermediate size; Hugging Face's
/// BertOutput) — so one class serves both, with the checkpoint's key names.
/// </summary>
public sealed class BertResidualOutput : nn.Module<Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly Linear dense;
    private readonly LayerNorm LayerNorm;
    private readonly FastDropout dropout;
#pragma warning restore IDE1006, SA1300

    /// <summary>Creates the block of <paramref name="config"/> for inputs of width <paramref name="inputSize"/>.</summary>
    public BertResidualOutput(BertConfig config, int inputSize) : base(nameof(BertResidualOutput))
    {
        ArgumentNullException.ThrowIfNull(config);
        dense = nn.Linear(inputSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        dropout = new FastDropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <summary>Applies <c>LayerNorm(dropout(dense(input)) + residual)</c>.</summary>
    public override Tensor forward(Tensor input, Tensor residual)
    {
        using var scope = NewDisposeScope();
        return LayerNorm.forward(dropout.forward(dense.forward(input)) + residual).MoveToOuterDisposeScope();
    }
}
