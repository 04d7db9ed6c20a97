namespace Bert.Sharp.Serving;

/// <summary>Encoded texts padded to the longest among them: ids, mask (1 = real token) and segment ids, row-major [size, length].</summary>
internal sealed class PaddedBatch
{
    private PaddedBatch(int size, int length)
    {
        Size = size;
        Length = length;
        InputIds = new long[size * length];
        AttentionMask = new long[size * length];
        TokenTypeIds = new long[size * length];
    }

    public int Size { get; }

    public int Length { get; }

    public long[] InputIds { get; }

    public long[] AttentionMask { get; }

    public long[] TokenTypeIds { get; }

    /// <summary>Pads rows <paramref name="indices"/> of <paramref name="encoding"/> with <paramref name="padId"/> (right padding).</summary>
    public static PaddedBatch Create(BatchEncoding encoding, IReadOnlyList<int> indices, int padId)
    {
        int length = indices.Max(i => encoding.InputIds[i].Length);
        var batch = new PaddedBatch(indices.Count, length);
        for (int r = 0; r < indices.Count; r++)
        {
            int[] ids = encoding.InputIds[indices[r]];
            int[] types = encoding.TokenTypeIds[indices[r]];
            int offset = r * length;
            for (int c = 0; c < length; c++)
            {
                bool real = c < ids.Length;
                batch.InputIds[offset + c] = real ? ids[c] : padId;
                batch.AttentionMask[offset + c] = real ? 1 : 0;
                batch.TokenTypeIds[offset + c] = real ? types[c] : 0;
            }
        }

        return batch;
    }

    /// <summary>Batches of at most <paramref name="batchSize"/> row indices, longest first, so each batch pads little.</summary>
    public static IEnumerable<int[]> LengthGrouped(BatchEncoding encoding, int batchSize) =>
        Enumerable.Range(0, encoding.Count).OrderByDescending(i => encoding.InputIds[i].Length).ThenBy(i => i).Chunk(batchSize);
}
