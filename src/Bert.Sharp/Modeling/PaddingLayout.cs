using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>
/// Where the real tokens of a padded [batch, seq] batch are, so token-wise work (projections, feed-forward,
/// LayerNorm — most of BERT's FLOPs) runs over the real tokens only, [tokens, hidden], and attention, which needs
/// the sequence structure, gets them back padded. Both directions are differentiable.
/// </summary>
internal sealed class PaddingLayout : IDisposable
{
    private readonly Tensor indices;

    private PaddingLayout(Tensor indices, Tensor keyMask)
    {
        this.indices = indices;
        KeyMask = keyMask;
        long[] shape = keyMask.shape; // one native call for both sizes
        (Batch, Sequence) = (shape[0], shape[1]);
    }

    /// <summary>Boolean [batch, seq], true for real tokens.</summary>
    public Tensor KeyMask { get; }

    public long Batch { get; }

    public long Sequence { get; }

    /// <summary>Number of real tokens.</summary>
    public long Tokens => indices.shape[0];

    /// <summary>Builds the layout of a boolean mask [batch, seq]; the caller owns it.</summary>
    public static PaddingLayout FromMask(Tensor keyMask)
    {
        Tensor flat = keyMask.reshape(-1).nonzero().squeeze(1);
        return new PaddingLayout(flat, keyMask);
    }

    /// <summary>[batch, seq, ...] to [tokens, ...].</summary>
    public Tensor Unpad(Tensor padded)
    {
        long[] rest = padded.shape[2..];
        using Tensor flat = padded.reshape([Batch * Sequence, .. rest]);
        return flat.index_select(0, indices);
    }

    /// <summary>[tokens, ...] to [batch, seq, ...] with zeros at padded positions.</summary>
    public Tensor Pad(Tensor tokens)
    {
        long[] rest = tokens.shape[1..];
        using Tensor flat = zeros([Batch * Sequence, .. rest], dtype: tokens.dtype, device: tokens.device);
        using Tensor filled = flat.index_copy(0, indices, tokens);
        return filled.reshape([Batch, Sequence, .. rest]);
    }

    /// <summary>
    /// Takes the layout's tensors out of the current dispose scope, for a forward pass whose layers run again in the backward
    /// pass (gradient checkpointing); they are then released with the autograd graph that refers to them, by the GC.
    /// </summary>
    public void DetachFromDisposeScope()
    {
        indices.DetachFromDisposeScope();
        KeyMask.DetachFromDisposeScope();
    }

    public void Dispose() => indices.Dispose();
}
