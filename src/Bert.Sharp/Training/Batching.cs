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

    /// <summary>Pads <paramref name="indices"/>' rows to the longest among them and builds tensors on <paramref name="device"/> (in the current dispose scope).</summary>
    public static (Tensor InputIds, Tensor AttentionMask, Tensor TokenTypeIds) Collate(IReadOnlyList<EncodedText> rows, int[] indices, int padId, Device device)
    {
        int batch = indices.Length;
        int width = indices.Max(i => rows[i].InputIds.Length);
        long[] ids = new long[batch * width];
        long[] mask = new long[batch * width];
        long[] types = new long[batch * width];
        for (int r = 0; r < batch; r++)
        {
            EncodedText e = rows[indices[r]];
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
        return (Runtime.HostToDevice.Copy(tensor(ids, shape), device), Runtime.HostToDevice.Copy(tensor(mask, shape), device), Runtime.HostToDevice.Copy(tensor(types, shape), device));
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
