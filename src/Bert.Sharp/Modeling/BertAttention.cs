using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>Self-attention and its output block (<c>attention.self.*</c>, <c>attention.output.*</c>).</summary>
internal sealed class BertAttention : nn.Module<Tensor, EncoderContext, Tensor>
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly BertSelfAttention self;
    private readonly BertOutput output;
#pragma warning restore IDE1006, SA1300

    public BertAttention(BertConfig config) : base(nameof(BertAttention))
    {
        self = new BertSelfAttention(config);
        output = new BertOutput(config, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>The self-attention (holds the kernel).</summary>
    public BertSelfAttention Self => self;

    /// <summary>Attention, then dense + dropout + residual + LayerNorm.</summary>
    public override Tensor forward(Tensor hidden, EncoderContext context)
    {
        using var scope = NewDisposeScope();
        return output.call(self.call(hidden, context), hidden).MoveToOuterDisposeScope();
    }
}
