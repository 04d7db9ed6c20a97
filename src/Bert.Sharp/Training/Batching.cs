namespace Bert.Sharp.Training;

/// <summary>Training batch planning: shuffled, optionally length-grouped (prediction batches: <see cref="Inference.LengthGroupedBatches"/>).</summary>
internal static class Batching
{
    private const int MegaBatchFactor = 50;

    /// <summary>The batches of one training epoch. Consumes <paramref name="rng"/> deterministically.</summary>
    public static List<int[]> TrainingBatches(IReadOnlyList<int> lengths, int batchSize, bool groupByLength, Pcg32 rng)
    {
        int[] order = rng.Permutation(lengths.Count);
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
