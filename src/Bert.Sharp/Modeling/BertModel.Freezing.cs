using TorchSharp.Modules;

namespace Bert.Sharp;

// Freezing and unfreezing parts of the encoder by layer index. A frozen parameter has requires_grad = false: it gets
// no gradient, and a trainer keeps it out of the optimizer.
public sealed partial class BertModel
{
    /// <summary>
    /// Freezes encoder layers by index (0 is the layer nearest the input). Use it for hand-made policies; for the usual
    /// ones (transfer learning, top-N fine-tuning, gradual unfreezing) give a <see cref="FreezePolicy"/> to the trainer.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is not a layer of this model.</exception>
    public void FreezeLayers(params int[] layerIndices) => SetLayersTrainable(layerIndices, false);

    /// <summary>Makes encoder layers trainable again by index (0 is the layer nearest the input).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is not a layer of this model.</exception>
    public void UnfreezeLayers(params int[] layerIndices) => SetLayersTrainable(layerIndices, true);

    /// <summary>Freezes or unfreezes the embedding block (word, position and token-type embeddings and their LayerNorm).</summary>
    public void SetEmbeddingsTrainable(bool trainable) => SetTrainable(embeddings.parameters(), trainable);

    /// <summary>Freezes or unfreezes the pooler, if the model has one.</summary>
    public void SetPoolerTrainable(bool trainable)
    {
        if (pooler is not null)
        {
            SetTrainable(pooler.parameters(), trainable);
        }
    }

    /// <summary>Freezes (or, with <c>false</c>, unfreezes) every parameter: the model becomes a fixed feature extractor.</summary>
    public void Freeze(bool frozen = true) => SetTrainable(parameters(), !frozen);

    /// <summary>Whether every parameter of encoder layer <paramref name="layerIndex"/> is frozen.</summary>
    public bool IsLayerFrozen(int layerIndex)
    {
        RequireLayer(layerIndex);
        return encoder.Layers[layerIndex].parameters().All(p => !p.requires_grad);
    }

    /// <summary>Counts trainable and frozen parameters.</summary>
    public ParameterSummary GetParameterSummary() => ParameterSummary.Of(named_parameters());

    private void SetLayersTrainable(int[] layerIndices, bool trainable)
    {
        ArgumentNullException.ThrowIfNull(layerIndices);
        foreach (int index in layerIndices)
        {
            RequireLayer(index);
        }

        foreach (int index in layerIndices)
        {
            SetTrainable(encoder.Layers[index].parameters(), trainable);
        }
    }

    private void RequireLayer(int index)
    {
        if (index < 0 || index >= encoder.Layers.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The model has {encoder.Layers.Count} encoder layers (0..{encoder.Layers.Count - 1}).");
        }
    }

    private static void SetTrainable(IEnumerable<Parameter> parameters, bool trainable)
    {
        foreach (Parameter p in parameters)
        {
            p.requires_grad = trainable;
        }
    }
}
