namespace Bert.Sharp.Inference;

/// <summary>One encoded text: ids and segment ids of equal length, starting with [CLS].</summary>
internal readonly record struct EncodedText(int[] InputIds, int[] TokenTypeIds)
{
    /// <summary>The rows of an unpadded <see cref="BatchEncoding"/>.</summary>
    public static EncodedText[] Rows(BatchEncoding batch)
    {
        var rows = new EncodedText[batch.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = new EncodedText(batch.InputIds[i], batch.TokenTypeIds[i]);
        }

        return rows;
    }
}
