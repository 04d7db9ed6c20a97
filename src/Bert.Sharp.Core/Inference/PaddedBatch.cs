namespace Bert.Sharp.Inference;

/// <summary>Encoded texts padded (the host side of a batch, for ONNX Runtime and for tensors) to the longest among them: ids, mask (1 = real token) and segment ids, row-major [size, length].</summary>
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

    /// <summary>Whether any row is shorter than <see cref="Length"/> (so <see cref="AttentionMask"/> holds a 0).</summary>
    public bool IsPadded { get; private set; }

    /// <summary>Pads rows <paramref name="indices"/> of <paramref name="rows"/> with <paramref name="padId"/> (right padding).</summary>
    public static PaddedBatch Create(IReadOnlyList<EncodedText> rows, IReadOnlyList<int> indices, int padId)
    {
        int length = indices.Max(i => rows[i].InputIds.Length);
        var batch = new PaddedBatch(indices.Count, length);
        for (int r = 0; r < indices.Count; r++)
        {
            int[] ids = rows[indices[r]].InputIds;
            int[] types = rows[indices[r]].TokenTypeIds;
            int offset = r * length;
            batch.IsPadded |= ids.Length < length;
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
}
