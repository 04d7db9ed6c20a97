using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Attention;

/// <summary>
/// torch's fused <c>scaled_dot_product_attention</c>: on CUDA it dispatches to flash or memory-efficient
/// attention; on CPU to a fused kernel that never materialises the full score matrix when no mask is given.
/// The default. Cannot return probabilities (use <see cref="EagerAttentionKernel"/> for that). With attention dropout
/// (training), it computes through the eager path, which is faster there.
/// </summary>
public sealed class FusedAttentionKernel : IAttentionKernel
{
    /// <summary>The shared instance.</summary>
    public static FusedAttentionKernel Instance { get; } = new();

    /// <inheritdoc />
    public string Name => "sdpa";

    /// <inheritdoc />
    public bool CanReturnProbabilities => false;

    /// <inheritdoc />
    public (Tensor Context, Tensor? Probabilities) Compute(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask, double dropoutProbability, bool returnProbabilities)
    {
        if (returnProbabilities)
        {
            throw new NotSupportedException("The fused 'sdpa' attention cannot return probabilities; use attn_implementation 'eager'.");
        }

        ArgumentNullException.ThrowIfNull(query);
        if (dropoutProbability > 0)
        {
            // With dropout, torch's CPU kernel falls back to its unfused path and its slower Bernoulli sampler; the eager
            // kernel with FastDropout computes the same thing ~20% faster per training forward (measured on MiniLM).
            return EagerAttentionKernel.Instance.Compute(query, key, value, keyPaddingMask, dropoutProbability, returnProbabilities: false);
        }

        Tensor? mask = null;
        try
        {
            if (keyPaddingMask is not null)
            {
                // Boolean mask broadcast over heads and queries: true = may attend.
                mask = keyPaddingMask.unsqueeze(1).unsqueeze(1);
            }

            Tensor context = nn.functional.scaled_dot_product_attention(query, key, value, mask, dropoutProbability, is_casual: false);
            return (context, null);
        }
        finally
        {
            mask?.Dispose();
        }
    }
}
