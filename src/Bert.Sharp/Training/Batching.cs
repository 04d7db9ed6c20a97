using static TorchSharp.torch;

namespace Bert.Sharp.Training;

/// <summary>Batch planning (shuffled, optionally length-grouped) and collation with dynamic padding.</summary>
internal static class Batching
{
    private const int MegaBatchFactor = 50;

    /// <summary>The batches of one training epoch. Consumes <paramref name="rng"/> deterministically.</summary>
    public static List<int[]> TrainingBatches(int[] lengths, int batchSize, bool groupByLength, Pcg32 rng)
    {
        int[] order = rng.Permutation(lengths.Length);
        if (groupByLength)
        {
            // Hugging Face's LengthGroupedSampler: sort within random mega-batches of 50 batches, longest first.
            int mega = batchSize * MegaBatchFactor;
            for (int start = 0; start < order.Length; start += mega)
            {
                int count = Math.Min(mega, order.Length - start);
                Array.Sort(order, start, count, Comparer<int>.Create((a, b) => lengths[b] != lengths[a] ? lengths[b].CompareTo(lengths[a]) : a.CompareTo(b)));
            }
        }

        List<int[]> batches = Chunk(order, batchSize);
        if (groupByLength && batches.Count > 1)
        {
            int[] batchOrder = rng.Permutation(batches.Count);
            batches = [.. batchOrder.Select(i => batches[i])];
        }

        return batches;
    }

    /// <summary>Evaluation batches: longest first, so each batch pads little. Order of results is restored by index.</summary>
    public static List<int[]> EvaluationBatches(int[] lengths, int batchSize)
    {
        int[] order = [.. Enumerable.Range(0, lengths.Length).OrderByDescending(i => lengths[i]).ThenBy(i => i)];
        return Chunk(order, batchSize);
    }

    /// <summary>Pads <paramref name="indices"/>' examples to the longest among them and builds tensors on <paramref name="device"/> (in the current dispose scope).</summary>
    public static (Tensor InputIds, Tensor AttentionMask, Tensor TokenTypeIds) Collate(EncodedExample[] examples, int[] indices, int padId, Device device)
    {
        int batch = indices.Length;
        int width = indices.Max(i => examples[i].InputIds.Length);
        long[] ids = new long[batch * width];
        long[] mask = new long[batch * width];
        long[] types = new long[batch * width];
        for (int r = 0; r < batch; r++)
        {
            EncodedExample e = examples[indices[r]];
            int offset = r * width;
            for (int c = 0; c < width; c++)
            {
                bool real = c < e.InputIds.Length;
                ids[offset + c] = real ? e.InputIds[c] : padId;
                mask[offset + c] = real ? 1 : 0;
                types[offset + c] = real ? e.TokenTypeIds[c] : 0;
            }
        }

        long[] shape = [batch, width];
        return (tensor(ids, shape).to(device), tensor(mask, shape).to(device), tensor(types, shape).to(device));
    }

    /// <summary>The labels of <paramref name="indices"/> as the model's loss wants them.</summary>
    public static Tensor Labels(EncodedExample[] examples, int[] indices, ProblemType problemType, int numLabels, Device device)
    {
        if (problemType == ProblemType.SingleLabelClassification)
        {
            return tensor(indices.Select(i => (long)examples[i].ClassId).ToArray()).to(device);
        }

        float[] flat = [.. indices.SelectMany(i => examples[i].Target)];
        Tensor labels = tensor(flat, [indices.Length, numLabels]);
        return (problemType == ProblemType.Regression && numLabels == 1 ? labels.view(-1) : labels).to(device);
    }

    private static List<int[]> Chunk(int[] order, int size)
    {
        var batches = new List<int[]>((order.Length + size - 1) / size);
        for (int start = 0; start < order.Length; start += size)
        {
            batches.Add(order[start..Math.Min(order.Length, start + size)]);
        }

        return batches;
    }
}
