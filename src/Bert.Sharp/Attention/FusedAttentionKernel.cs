using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Attention;

/// <summary>
/// torch's fused <c>scaled_dot_product_attention</c>: on CUDA it dispatches to flash or memory-efficient
/// attention; on CPU to a fused kernel that never materialises the full score matrix when no mask is given.
/// The default. Cannot return probabilities (use <see cref="EagerAttentionKernel"/> for that). With attention dropout
/// (training) on the CPU it computes head by head in managed code around MKL's product (<see cref="CpuFusedAttention"/>,
/// Linux x64) or else through the eager path, both faster there; the self-attention block's projection goes head by head
/// in CPU training without dropout too (<see cref="IPackedAttentionKernel"/>). On other devices (CUDA) the fused
/// kernel applies the dropout itself (flash and memory-efficient attention support it; eager was 3–5× slower on an H200).
/// </summary>
/// <remarks>
/// The fused kernel's dropout samples from the device's default generator. Inside a training run that generator is seeded
/// with a 64-bit key drawn from the run's CPU generator right before the call (<see cref="Runtime.DeviceRandom"/>), so
/// seeded runs, exact resume and gradient checkpointing see the same attention masks; outside a run it samples from torch's
/// global generator, like PyTorch's <c>F.scaled_dot_product_attention</c>. On CUDA the masks differ from the eager kernel's
/// (another sampler), with the same distribution; on the CPU both paths drop exactly the eager kernel's elements.
/// </remarks>
public sealed class FusedAttentionKernel : IAttentionKernel, IPackedAttentionKernel
{
    /// <summary>The shared instance.</summary>
    public static FusedAttentionKernel Instance { get; } = new();

    /// <inheritdoc />
    public string Name => "sdpa";

    /// <inheritdoc />
    /// <remarks>
    /// On the CPU, in training: with dropout, and without it when gradients flow back (the head-by-head kernel was faster
    /// than LibTorch's fused attention there too); not for inference, where LibTorch's kernel keeps no probabilities.
    /// </remarks>
    Tensor? IPackedAttentionKernel.TryComputePacked(Tensor projection, int heads, Tensor? keyPaddingMask, double dropoutProbability) =>
        projection.device_type == DeviceType.CPU && (dropoutProbability > 0 || (is_grad_enabled() && projection.requires_grad))
            && CpuFusedAttention.SupportsPacked(projection, heads, dropoutProbability)
            ? CpuFusedAttention.ApplyPacked(projection, heads, keyPaddingMask, dropoutProbability)
            : null;

    /// <inheritdoc />
    public (Tensor Context, Tensor? Probabilities) Compute(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask, double dropoutProbability, bool returnProbabilities)
    {
        AttentionKernels.CheckArguments(this, query, key, value, returnProbabilities);
        if (dropoutProbability > 0 && query.device_type == DeviceType.CPU)
        {
            // With dropout, torch's CPU kernel falls back to its unfused path and its slower Bernoulli sampler. Where MKL can
            // be called directly, a head at a time with the head's map in cache (CpuFusedAttention); otherwise the eager
            // kernel with FastDropout. Both are faster.
            if (CpuFusedAttention.Supports(query, key, value, dropoutProbability))
            {
                return (CpuFusedAttention.Apply(query, key, value, keyPaddingMask, dropoutProbability), null);
            }

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

            Tensor? attentionMask = mask;
            Tensor context = dropoutProbability > 0
                ? Runtime.DeviceRandom.WithDeviceSeed(query.device, Modeling.DropoutRandomness.Current, () => nn.functional.scaled_dot_product_attention(query, key, value, attentionMask, dropoutProbability, is_casual: false))
                : nn.functional.scaled_dot_product_attention(query, key, value, mask, dropoutProbability, is_casual: false);
            return (context, null);
        }
        finally
        {
            mask?.Dispose();
        }
    }
}
