using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>The stack of <see cref="BertLayer"/>s (<c>encoder.layer.0</c> … <c>encoder.layer.N-1</c>).</summary>
public sealed class BertEncoder : nn.Module
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly ModuleList<BertLayer> layer;
#pragma warning restore IDE1006, SA1300

    /// <summary>Creates the encoder of <paramref name="config"/>.</summary>
    public BertEncoder(BertConfig config) : base(nameof(BertEncoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        layer = new ModuleList<BertLayer>();
        for (int i = 0; i < config.NumHiddenLayers; i++)
        {
            layer.Add(new BertLayer(config));
        }

        Layers = [.. layer];
        RegisterComponents();
    }

    /// <summary>The layers, input side first.</summary>
    public IReadOnlyList<BertLayer> Layers { get; }
}
