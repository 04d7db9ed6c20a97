using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>The stack of <see cref="BertLayer"/>s (<c>encoder.layer.0</c> … <c>encoder.layer.N-1</c>), run in order.</summary>
internal sealed class BertEncoder : nn.Module<Tensor, EncoderContext, Tensor>
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly ModuleList<BertLayer> layer;
#pragma warning restore IDE1006, SA1300

    public BertEncoder(BertConfig config) : base(nameof(BertEncoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        layer = new ModuleList<BertLayer>();
        for (int i = 0; i < config.NumHiddenLayers; i++)
        {
            layer.Add(new BertLayer(config, i));
        }

        Layers = [.. layer];
        RegisterComponents();
    }

    /// <summary>The layers, input side first.</summary>
    public IReadOnlyList<BertLayer> Layers { get; }

    /// <summary>The layer list itself: ModernBERT's base model registers it directly, as <c>layers</c>.</summary>
    internal ModuleList<BertLayer> LayerList => layer;

    /// <summary>
    /// Runs every layer; when the context collects hidden states, adds each layer's output (padded) to it. With gradient
    /// checkpointing, layers with trainable parameters keep no activations and are recomputed in the backward pass.
    /// </summary>
    public override Tensor forward(Tensor hidden, EncoderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        using var scope = NewDisposeScope();
        foreach (BertLayer block in Layers)
        {
            hidden = context.GradientCheckpointing && block.parameters().Any(p => p.requires_grad)
                ? LayerCheckpoint.Run(hidden, h => block.call(h, context))
                : block.call(hidden, context);
            if (context.CollectsHiddenStates)
            {
                context.AddHiddenState(context.Layout is { } layout ? layout.Pad(hidden) : hidden.alias());
            }
        }

        return hidden.MoveToOuterDisposeScope();
    }
}
