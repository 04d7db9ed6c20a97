using Bert.Sharp.Modeling;
using static TorchSharp.torch;

namespace Bert.Sharp;

// The forward pass in stages, so a trainer can run the frozen part of the network (embeddings and the layers near the
// input) without autograd and only the trainable top with it. Same maths as Forward: embeddings, then layers, then pooler.
public sealed partial class BertModel
{
    /// <summary>Validates inputs once and builds the key padding mask (<c>null</c> when nothing is padded).</summary>
    internal Tensor? PrepareMask(Tensor inputIds, Tensor? attentionMask, Tensor? tokenTypeIds)
    {
        BertInputValidator.Validate(Config, inputIds, attentionMask, tokenTypeIds, null);
        return PaddingMask(attentionMask, Device);
    }

    /// <summary>Runs the embedding block.</summary>
    internal Tensor ForwardEmbeddings(Tensor inputIds, Tensor? tokenTypeIds) => embeddings.forward(inputIds, tokenTypeIds, null);

    /// <summary>Runs layers [<paramref name="start"/>, <paramref name="end"/>) over <paramref name="hidden"/>.</summary>
    internal Tensor ForwardLayers(Tensor hidden, Tensor? keyMask, int start, int end)
    {
        using var scope = NewDisposeScope();
        for (int i = start; i < end; i++)
        {
            (hidden, _) = encoder.Layers[i].Forward(hidden, keyMask, false);
        }

        return hidden.MoveToOuterDisposeScope();
    }

    /// <summary>Runs the pooler, or returns <c>null</c> when the model has none.</summary>
    internal Tensor? ForwardPooler(Tensor hidden) => pooler?.forward(hidden);
}
