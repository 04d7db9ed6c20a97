using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Attention;

/// <summary>
/// Blockwise attention with an online softmax (the idea behind FlashAttention, in plain tensor ops): queries and
/// keys are processed in blocks, keeping a running maximum, normaliser and weighted sum, so the full
/// [query, key] score matrix is never held. Peak memory grows linearly with the sequence length instead of with its
/// square; use it for long sequences on devices where the fused kernel would fall back to a materialised mask.
/// Differentiable (autograd records the block operations). Works on any device.
/// </summary>
public sealed class ChunkedAttentionKernel : IAttentionKernel
{
    /// <summary>A kernel with 256-token query and key blocks.</summary>
    public static ChunkedAttentionKernel Instance { get; } = new(256, 256);

    /// <summary>Creates a kernel with the given block sizes.</summary>
    /// <param name="queryBlockSize">Queries per block (&gt; 0).</param>
    /// <param name="keyBlockSize">Keys per block (&gt; 0).</param>
    public ChunkedAttentionKernel(int queryBlockSize, int keyBlockSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(queryBlockSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(keyBlockSize);
        QueryBlockSize = queryBlockSize;
        KeyBlockSize = keyBlockSize;
    }

    /// <summary>Queries per block.</summary>
    public int QueryBlockSize { get; }

    /// <summary>Keys per block.</summary>
    public int KeyBlockSize { get; }

    /// <inheritdoc />
    public string Name => "chunked";

    /// <inheritdoc />
    public (Tensor Context, Tensor? Probabilities) Compute(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask, double dropoutProbability, bool returnProbabilities)
    {
        AttentionKernels.CheckArguments(this, query, key, value, returnProbabilities);
        long queryLength = query.shape[2];
        long keyLength = key.shape[2];
        double scale = 1.0 / Math.Sqrt(query.shape[^1]);
        double floor = EagerAttentionKernel.MinValue(query.dtype);

        var outputs = new List<Tensor>();
        for (long q0 = 0; q0 < queryLength; q0 += QueryBlockSize)
        {
            using var blockScope = NewDisposeScope();
            long qLen = Math.Min(QueryBlockSize, queryLength - q0);
            Tensor q = Runtime.HeldScalars.Multiply(query.narrow(2, q0, qLen), scale);
            Tensor? runningMax = null;
            Tensor? normaliser = null;
            Tensor? accumulator = null;
            for (long k0 = 0; k0 < keyLength; k0 += KeyBlockSize)
            {
                // Each key block's temporaries die with this scope; only the running state moves out. (Under autograd
                // the graph keeps what backward needs, independent of these handles.)
                using var keyScope = NewDisposeScope();
                long kLen = Math.Min(KeyBlockSize, keyLength - k0);
                Tensor scores = q.matmul(key.narrow(2, k0, kLen).transpose(-1, -2));
                if (keyPaddingMask is not null)
                {
                    Tensor blocked = keyPaddingMask.narrow(1, k0, kLen).logical_not().unsqueeze(1).unsqueeze(1);
                    scores = Runtime.HeldScalars.MaskedFill(scores, blocked, floor);
                }

                Tensor blockMax = scores.amax([-1L], keepdim: true);
                Tensor newMax = runningMax is null ? blockMax : maximum(runningMax, blockMax);
                Tensor weights = (scores - newMax).exp();
                Tensor blockSum = weights.sum(-1, keepdim: true);
                Tensor dropped = dropoutProbability > 0 ? Modeling.FastDropout.Apply(weights, dropoutProbability) : weights;
                Tensor blockContext = dropped.matmul(value.narrow(2, k0, kLen));
                Tensor newNormaliser, newAccumulator;
                if (runningMax is null)
                {
                    newNormaliser = blockSum;
                    newAccumulator = blockContext;
                }
                else
                {
                    Tensor correction = (runningMax - newMax).exp();
                    newNormaliser = Runtime.HeldScalars.Add(normaliser! * correction, blockSum);
                    newAccumulator = Runtime.HeldScalars.Add(accumulator! * correction, blockContext);
                }

                runningMax?.Dispose();
                normaliser?.Dispose();
                accumulator?.Dispose();
                runningMax = newMax.MoveToOuterDisposeScope();
                normaliser = newNormaliser.MoveToOuterDisposeScope();
                accumulator = newAccumulator.MoveToOuterDisposeScope();
            }

            outputs.Add((accumulator! / normaliser!).MoveToOuterDisposeScope());
        }

        Tensor context = outputs.Count == 1 ? outputs[0] : cat(outputs, 2);
        if (outputs.Count > 1)
        {
            outputs.ForEach(t => t.Dispose());
        }

        return (context, null);
    }
}
