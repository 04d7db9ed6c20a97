namespace Bert.Sharp.Inference;

/// <summary>
/// The one batch runner of prediction and evaluation, for both backends: rows are run longest first in batches of similar
/// lengths (so each pads little) and the results put back in input order.
/// </summary>
internal static class LengthGroupedBatches
{
    /// <summary>Batches of at most <paramref name="batchSize"/> row indices, longest first (ties in input order).</summary>
    public static List<int[]> Plan(IReadOnlyList<int> lengths, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        int[] order = [.. Enumerable.Range(0, lengths.Count).OrderByDescending(i => lengths[i]).ThenBy(i => i)];
        var batches = new List<int[]>((order.Length + batchSize - 1) / batchSize);
        for (int start = 0; start < order.Length; start += batchSize)
        {
            batches.Add(order[start..Math.Min(order.Length, start + batchSize)]);
        }

        return batches;
    }

    /// <summary>
    /// Runs <paramref name="runBatch"/> on each planned batch (it gets the batch's row indices and returns one result per
    /// index, in that order) and returns the results in input order. <paramref name="cancellationToken"/> is checked
    /// before each batch, so a long prediction stops within one batch of being cancelled.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static TResult[] Run<TResult>(IReadOnlyList<EncodedText> rows, int batchSize, Func<int[], IReadOnlyList<TResult>> runBatch,
        CancellationToken cancellationToken = default)
    {
        var results = new TResult[rows.Count];
        int[] lengths = [.. rows.Select(r => r.InputIds.Length)];
        foreach (int[] batch in Plan(lengths, batchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            IReadOnlyList<TResult> batchResults = runBatch(batch);
            if (batchResults.Count != batch.Length)
            {
                throw new InvalidOperationException($"A batch of {batch.Length} rows gave {batchResults.Count} results.");
            }

            for (int r = 0; r < batch.Length; r++)
            {
                results[batch[r]] = batchResults[r];
            }
        }

        return results;
    }
}
