using Bert.Sharp.Modeling;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// What every encoder layer of one forward pass needs besides the hidden states: which key positions are real tokens,
/// whether the attention probabilities are wanted, and (internally) whether the batch runs unpadded.
/// </summary>
/// <remarks>
/// <see cref="BertModel"/> builds one per forward pass; you need one only to call a <see cref="BertLayer"/> yourself.
/// </remarks>
public sealed class EncoderContext
{
    private List<Tensor>? probabilities;
    private List<Tensor>? hiddenStates;

    /// <summary>Creates a context.</summary>
    /// <param name="keyPaddingMask">Boolean [batch, seq], <c>true</c> for real tokens; <c>null</c> when nothing is padded.</param>
    /// <param name="returnAttentionProbabilities">Collect each layer's attention probabilities in <see cref="AttentionProbabilities"/>.</param>
    public EncoderContext(Tensor? keyPaddingMask = null, bool returnAttentionProbabilities = false)
    {
        KeyPaddingMask = keyPaddingMask;
        ReturnAttentionProbabilities = returnAttentionProbabilities;
    }

    /// <summary>Boolean [batch, seq], <c>true</c> for real tokens; <c>null</c> when nothing is padded.</summary>
    public Tensor? KeyPaddingMask { get; }

    /// <summary>Whether layers add their attention probabilities to <see cref="AttentionProbabilities"/>.</summary>
    public bool ReturnAttentionProbabilities { get; }

    /// <summary>The attention probabilities [batch, heads, seq, seq] of the layers run so far, input side first (when asked for).</summary>
    public IReadOnlyList<Tensor> AttentionProbabilities => probabilities ?? [];

    /// <summary>
    /// Set when the batch runs unpadded: hidden states are then [tokens, hidden] (real tokens only) and attention pads them
    /// back to [batch, seq] through this layout.
    /// </summary>
    internal PaddingLayout? Layout { get; init; }

    /// <summary>Position ids [batch or 1, seq] the caller gave, for layers that rotate by position (ModernBERT); <c>null</c>: 0, 1, 2, ….</summary>
    internal Tensor? PositionIds { get; init; }

    /// <summary>The dispose scope that owns collected probabilities (the forward pass's caller's); <c>null</c>: the context's user owns them.</summary>
    internal TorchSharp.DisposeScope? ResultScope { get; init; }

    /// <summary>Whether the encoder recomputes each trainable layer in the backward pass instead of keeping its activations.</summary>
    internal bool GradientCheckpointing { get; init; }

    /// <summary>Whether the encoder adds each layer's output to <see cref="HiddenStates"/>.</summary>
    internal bool CollectsHiddenStates { get; init; }

    /// <summary>Each layer's output [batch, seq, hidden] so far (when collected).</summary>
    internal IReadOnlyList<Tensor> HiddenStates => hiddenStates ?? [];

    internal void AddProbabilities(Tensor value) => (probabilities ??= []).Add(Keep(value));

    internal void AddHiddenState(Tensor value) => (hiddenStates ??= []).Add(Keep(value));

    // Collected tensors outlive the layers' own dispose scopes: they leave them here and join the caller's.
    private Tensor Keep(Tensor value)
    {
        value.DetachFromDisposeScope();
        ResultScope?.Attach(value);
        return value;
    }
}
