using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>Less common inputs and outputs of a forward pass.</summary>
public sealed record BertForwardOptions
{
    /// <summary>Explicit position ids [batch or 1, seq]; <c>null</c> for 0..seq-1.</summary>
    public Tensor? PositionIds { get; init; }

    /// <summary>Return the embeddings and every layer's output in <see cref="BertOutput.HiddenStates"/>.</summary>
    public bool OutputHiddenStates { get; init; }

    /// <summary>Return every layer's attention probabilities in <see cref="BertOutput.Attentions"/> (uses the eager kernel for those layers).</summary>
    public bool OutputAttentions { get; init; }
}
