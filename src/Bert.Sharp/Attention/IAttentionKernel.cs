using static TorchSharp.torch;

namespace Bert.Sharp.Attention;

/// <summary>
/// One way of computing scaled dot-product attention, <c>softmax(QKᵀ/√d + mask)·V</c>, over tensors shaped
/// [batch, heads, sequence, head size]. Kernels differ in speed, memory and whether they can return the
/// probabilities, never in result: every kernel is tested against <see cref="EagerAttentionKernel"/>.
/// </summary>
public interface IAttentionKernel
{
    /// <summary>The name used in <c>attn_implementation</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Whether <see cref="Compute"/> can return the attention probabilities; <c>false</c> unless a kernel says otherwise (fused
    /// kernels never hold them), and the model then computes a forward that asks for them with the eager kernel.
    /// </summary>
    bool CanReturnProbabilities => false;

    /// <summary>Computes attention.</summary>
    /// <param name="query">[batch, heads, query length, head size].</param>
    /// <param name="key">[batch, heads, key length, head size].</param>
    /// <param name="value">[batch, heads, key length, head size].</param>
    /// <param name="keyPaddingMask">Boolean [batch, key length], <c>true</c> for real tokens; <c>null</c> when nothing is padded.</param>
    /// <param name="dropoutProbability">Dropout on the probabilities (apply only when training).</param>
    /// <param name="returnProbabilities">Also return the probabilities [batch, heads, query length, key length].</param>
    /// <returns>The context [batch, heads, query length, head size] and, when asked for, the probabilities.</returns>
    (Tensor Context, Tensor? Probabilities) Compute(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask, double dropoutProbability, bool returnProbabilities);
}
