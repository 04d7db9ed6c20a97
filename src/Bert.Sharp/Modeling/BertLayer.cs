using Bert.Sharp.Attention;
using Bert.Sharp.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// One transformer encoder layer (<c>encoder.layer.N.*</c>): self-attention with its output block, then the feed-forward
/// block. A unit of <see cref="BertModel"/>: freeze policies train or freeze layers whole.
/// </summary>
public sealed class BertLayer : nn.Module<Tensor, EncoderContext, Tensor>
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly BertAttention attention;
    private readonly BertIntermediate intermediate;
    private readonly BertOutput output;
#pragma warning restore IDE1006, SA1300

    internal BertLayer(BertConfig config) : base(nameof(BertLayer))
    {
        attention = new BertAttention(config);
        intermediate = new BertIntermediate(config);
        output = new BertOutput(config, config.IntermediateSize);
        RegisterComponents();
    }

    /// <summary>The attention kernel this layer uses.</summary>
    public IAttentionKernel AttentionKernel
    {
        get => attention.Self.Kernel;
        set => attention.Self.Kernel = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>The dense layers by their name inside the layer (<c>attention.self.query</c>, ..., <c>output.dense</c>), for adapters.</summary>
    internal IEnumerable<(string Name, BertLinear Layer)> DenseLayers()
    {
        foreach ((string name, nn.Module module) in named_modules())
        {
            if (module is BertLinear linear)
            {
                yield return (name, linear);
            }
        }
    }

    /// <summary>Runs the layer over <paramref name="hidden"/> [batch, seq, hidden] (or [tokens, hidden] when the context runs unpadded).</summary>
    public override Tensor forward(Tensor hidden, EncoderContext context)
    {
        using var scope = NewDisposeScope();
        Tensor attended = attention.call(hidden, context);
        return output.call(intermediate.call(attended), attended).MoveToOuterDisposeScope();
    }
}
