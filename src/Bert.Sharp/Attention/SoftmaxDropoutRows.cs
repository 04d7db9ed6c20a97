using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Bert.Sharp.Attention;

/// <summary>
/// The per-row arithmetic of <see cref="CpuFusedAttention"/>: a masked softmax followed by dropout in one pass over a
/// row of attention scores, and its backward in one pass over a row of the incoming gradient. A row (one query's scores
/// over the keys) stays in the first-level cache between the steps, so each touches memory once.
/// </summary>
/// <remarks>Vectorised with <see cref="Vector256"/>; callers use it only where that is hardware-accelerated.</remarks>
internal static unsafe class SoftmaxDropoutRows
{
    /// <summary>
    /// <paramref name="probabilities"/> = softmax of <paramref name="scores"/> with the keys that
    /// <paramref name="allowed"/> zeroes replaced by <see cref="float.MinValue"/> first (as Hugging Face's masked fill
    /// does, so a row with every key padded comes out uniform); <paramref name="dropped"/> = probabilities × the
    /// dropout mask row <paramref name="mask"/> (0 or 1 / (1 − p)).
    /// <paramref name="allowed"/> holds per key all ones (attend) or zero (padded), or is <c>null</c> when no key is padded.
    /// <paramref name="dropped"/> may be <paramref name="scores"/> (the last step reads only the probabilities).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(float* scores, uint* allowed, float* mask, float* probabilities, float* dropped, int length)
    {
        Vector256<float> lowest = Vector256.Create(float.MinValue);
        int vectorEnd = length - (length % Vector256<float>.Count);

        // 1. The row's maximum over the masked scores.
        float max = float.NegativeInfinity;
        int j = 0;
        if (vectorEnd > 0)
        {
            Vector256<float> maxVector = Vector256.Create(float.NegativeInfinity);
            for (; j < vectorEnd; j += Vector256<float>.Count)
            {
                maxVector = Vector256.Max(maxVector, Masked(scores, allowed, lowest, j));
            }

            max = HorizontalMax(maxVector);
        }

        for (; j < length; j++)
        {
            max = MathF.Max(max, Masked(scores, allowed, j));
        }

        // 2. exp(x − max) into the probabilities, and their sum.
        Vector256<float> maxBroadcast = Vector256.Create(max);
        Vector256<float> sumVector = Vector256<float>.Zero;
        for (j = 0; j < vectorEnd; j += Vector256<float>.Count)
        {
            Vector256<float> e = Vector256.Exp(Masked(scores, allowed, lowest, j) - maxBroadcast);
            e.Store(probabilities + j);
            sumVector += e;
        }

        float sum = Vector256.Sum(sumVector);
        for (; j < length; j++)
        {
            float e = MathF.Exp(Masked(scores, allowed, j) - max);
            probabilities[j] = e;
            sum += e;
        }

        // 3. Normalised, and the dropped copy.
        float inverse = 1f / sum;
        Vector256<float> inverseBroadcast = Vector256.Create(inverse);
        for (j = 0; j < vectorEnd; j += Vector256<float>.Count)
        {
            Vector256<float> p = Vector256.Load(probabilities + j) * inverseBroadcast;
            p.Store(probabilities + j);
            (p * Vector256.Load(mask + j)).Store(dropped + j);
        }

        for (; j < length; j++)
        {
            float p = probabilities[j] * inverse;
            probabilities[j] = p;
            dropped[j] = p * mask[j];
        }
    }

    /// <summary>
    /// The gradient of the scores from the gradient of the dropped probabilities: with g = <paramref name="gradient"/> ×
    /// <paramref name="mask"/>, <paramref name="result"/> = P ⊙ (g − Σ g ⊙ P). Padded keys (zero in <paramref name="allowed"/>)
    /// get a zero gradient, as masked_fill_'s backward gives them. <paramref name="result"/> may be <paramref name="gradient"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(float* gradient, float* probabilities, float* mask, uint* allowed, float* result, int length)
    {
        int vectorEnd = length - (length % Vector256<float>.Count);
        Vector256<float> dotVector = Vector256<float>.Zero;
        int j = 0;
        for (; j < vectorEnd; j += Vector256<float>.Count)
        {
            Vector256<float> g = Vector256.Load(gradient + j) * Vector256.Load(mask + j);
            g.Store(result + j);
            dotVector += g * Vector256.Load(probabilities + j);
        }

        float dot = Vector256.Sum(dotVector);
        for (; j < length; j++)
        {
            float g = gradient[j] * mask[j];
            result[j] = g;
            dot += g * probabilities[j];
        }

        Vector256<float> dotBroadcast = Vector256.Create(dot);
        for (j = 0; j < vectorEnd; j += Vector256<float>.Count)
        {
            Vector256<float> d = Vector256.Load(probabilities + j) * (Vector256.Load(result + j) - dotBroadcast);
            if (allowed is not null)
            {
                d &= Vector256.Load(allowed + j).AsSingle();
            }

            d.Store(result + j);
        }

        for (; j < length; j++)
        {
            float d = probabilities[j] * (result[j] - dot);
            result[j] = allowed is null || allowed[j] != 0 ? d : 0f;
        }
    }

    /// <summary><paramref name="result"/> = <paramref name="probabilities"/> × <paramref name="mask"/>: the forward's dropped row again.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Drop(float* probabilities, float* mask, float* result, int length)
    {
        int vectorEnd = length - (length % Vector256<float>.Count);
        int j = 0;
        for (; j < vectorEnd; j += Vector256<float>.Count)
        {
            (Vector256.Load(probabilities + j) * Vector256.Load(mask + j)).Store(result + j);
        }

        for (; j < length; j++)
        {
            result[j] = probabilities[j] * mask[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Masked(float* scores, uint* allowed, Vector256<float> lowest, int j)
    {
        Vector256<float> x = Vector256.Load(scores + j);
        return allowed is null ? x : Vector256.ConditionalSelect(Vector256.Load(allowed + j).AsSingle(), x, lowest);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Masked(float* scores, uint* allowed, int j) => allowed is null || allowed[j] != 0 ? scores[j] : float.MinValue;

    private static float HorizontalMax(Vector256<float> v)
    {
        Vector128<float> m = Vector128.Max(v.GetLower(), v.GetUpper());
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(2, 3, 0, 1)));
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(1, 0, 3, 2)));
        return m.ToScalar();
    }
}
