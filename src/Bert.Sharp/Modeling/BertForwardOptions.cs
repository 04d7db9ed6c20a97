using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>Less common inputs and outputs of a forward pass.</summary>
public sealed record BertForwardOptions
{
    /// <summary>Explicit position ids [batch or 1, seq]; <c>null</c> for 0..seq-1.</summary>
    public Tensor? PositionIds { get; init; }

    /// <summary>Return the embeddings and every layer's output in <see cref="BertModelOutput.HiddenStates"/>.</summary>
    public bool OutputHiddenStates { get; init; }

    /// <summary>Return every layer's attention probabilities in <see cref="BertModelOutput.Attentions"/> (uses the eager kernel for those layers).</summary>
    public bool OutputAttentions { get; init; }

    /// <summary>Whether token-wise work runs over real tokens only; <see cref="UnpaddingMode.Auto"/> decides per batch.</summary>
    public UnpaddingMode Unpadding { get; init; }
}

/// <summary>
/// Whether a padded batch runs unpadded: projections, feed-forward and LayerNorm (most of BERT's work) over the real tokens
/// only, padded back just for attention. Same results at real positions; padded positions of the last hidden state are then
/// zero instead of the meaningless values a padded run leaves there.
/// </summary>
public enum UnpaddingMode
{
    /// <summary>Unpad when at least a quarter of the batch's positions are padding (where it pays: the gathers cost less than the wasted work).</summary>
    Auto,

    /// <summary>Always run the padded batch as it is (outputs at padded positions equal Hugging Face's).</summary>
    Never,

    /// <summary>Unpad whenever anything is padded.</summary>
    Always,
}
