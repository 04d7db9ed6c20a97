using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>One transformer encoder layer: attention, then the feed-forward block (<c>encoder.layer.N.*</c>).</summary>
public sealed class BertLayer : nn.Module
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly BertAttention attention;
    private readonly BertIntermediate intermediate;
    private readonly BertResidualOutput output;
#pragma warning restore IDE1006, SA1300

    /// <summary>Creates a layer of <paramref name="config"/>.</summary>
    public BertLayer(BertConfig config) : base(nameof(BertLayer))
    {
        attention = new BertAttention(config);
        intermediate = new BertIntermediate(config);
        output = new BertResidualOutput(config, config.IntermediateSize);
        RegisterComponents();
    }

    /// <summary>The attention block.</summary>
    public BertAttention Attention => attention;

    /// <summary>Runs the layer over [batch, seq, hidden].</summary>
    /// <param name="hidden">[batch, seq, hidden].</param>
    /// <param name="keyPaddingMask">Boolean [batch, seq], true for real tokens; <c>null</c> when nothing is padded.</param>
    /// <param name="returnProbabilities">Also return the attention probabilities.</param>
    public (Tensor Hidden, Tensor? Probabilities) Forward(Tensor hidden, Tensor? keyPaddingMask, bool returnProbabilities) =>
        Forward(hidden, keyPaddingMask, returnProbabilities, null);

    /// <summary>With a <paramref name="layout"/>, <paramref name="hidden"/> holds the real tokens only, [tokens, hidden], and so does the result.</summary>
    internal (Tensor Hidden, Tensor? Probabilities) Forward(Tensor hidden, Tensor? keyPaddingMask, bool returnProbabilities, PaddingLayout? layout)
    {
        using var scope = NewDisposeScope();
        (Tensor attended, Tensor? probabilities) = attention.Forward(hidden, keyPaddingMask, returnProbabilities, layout);
        Tensor result = output.forward(intermediate.forward(attended), attended);
        probabilities?.MoveToOuterDisposeScope();
        return (result.MoveToOuterDisposeScope(), probabilities);
    }
}
