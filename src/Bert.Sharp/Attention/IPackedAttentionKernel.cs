using static TorchSharp.torch;

namespace Bert.Sharp.Attention;

/// <summary>
/// A kernel that can also attend over the fused Q/K/V projection as the self-attention block computes it
/// ([batch, sequence, 3 · heads · head size]) and return the merged context ([batch, sequence, heads · head size]),
/// which saves the copies of splitting the heads out, merging them back and, in training, adding the three projections'
/// gradients into one.
/// </summary>
internal interface IPackedAttentionKernel
{
    /// <summary>
    /// The merged context, or <c>null</c> when this kernel has no packed path for these inputs (the caller then splits the
    /// heads and calls <see cref="IAttentionKernel.Compute"/>); the same attention either way.
    /// </summary>
    /// <param name="projection">[batch, sequence, 3 · heads · head size]: queries, keys, values.</param>
    /// <param name="heads">The number of heads.</param>
    /// <param name="keyPaddingMask">Boolean [batch, sequence], <c>true</c> for real tokens; <c>null</c> when nothing is padded.</param>
    /// <param name="dropoutProbability">Dropout on the probabilities (training).</param>
    Tensor? TryComputePacked(Tensor projection, int heads, Tensor? keyPaddingMask, double dropoutProbability);
}
