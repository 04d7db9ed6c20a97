using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>Self-attention and its output block (<c>attention.self.*</c>, <c>attention.output.*</c>).</summary>
public sealed class BertAttention : nn.Module
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly BertSelfAttention self;
    private readonly BertResidualOutput output;
#pragma warning restore IDE1006, SA1300

    /// <summary>Creates the block of <paramref name="config"/>.</summary>
    public BertAttention(BertConfig config) : base(nameof(BertAttention))
    {
        self = new BertSelfAttention(config);
        output = new BertResidualOutput(config, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>The self-attention (holds the kernel).</summary>
    public BertSelfAttention Self => self;

    /// <summary>Attention with residual and LayerNorm.</summary>
    public (Tensor Hidden, Tensor? Probabilities) Forward(Tensor hidden, Tensor? keyPaddingMask, bool returnProbabilities) =>
        Forward(hidden, keyPaddingMask, returnProbabilities, null);

    /// <summary>With a <paramref name="layout"/>, <paramref name="hidden"/> holds the real tokens only, [tokens, hidden].</summary>
    internal (Tensor Hidden, Tensor? Probabilities) Forward(Tensor hidden, Tensor? keyPaddingMask, bool returnProbabilities, PaddingLayout? layout)
    {
        using var scope = NewDisposeScope();
        (Tensor context, Tensor? probabilities) = self.Forward(hidden, keyPaddingMask, returnProbabilities, layout);
        Tensor result = output.forward(context, hidden);
        probabilities?.MoveToOuterDisposeScope();
        return (result.MoveToOuterDisposeScope(), probabilities);
    }
}
