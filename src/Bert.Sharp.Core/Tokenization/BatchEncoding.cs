using Bert.Sharp.Tokenization;

namespace Bert.Sharp;

/// <summary>
/// The result of <see cref="BertTokenizer.EncodeBatch(IReadOnlyList{string}, EncodingOptions?)"/> and
/// <see cref="SubwordTokenizer.EncodeBatch(IReadOnlyList{string}, EncodingOptions?)"/>: one row per
/// input (more with overflow windows), each with ids, attention mask, token types, special-tokens mask and offsets.
/// </summary>
/// <remarks>
/// Rows are plain arrays so they can be inspected, written out or fed to any runtime (ONNX Runtime, TorchSharp); with the
/// Bert.Sharp package, <c>ToTensors</c> turns a padded batch into the int64 [batch, sequence] tensors a TorchSharp BERT model takes.
/// </remarks>
public sealed class BatchEncoding
{
    private readonly int[][] _inputIds;
    private readonly int[][] _attentionMask;
    private readonly int[][] _tokenTypeIds;
    private readonly int[][] _specialTokensMask;
    private readonly TokenOffset[][] _offsets;
    private readonly int[] _overflowToSample;

    /// <summary>A batch of <paramref name="count"/> rows, each set once by <c>SetRow</c> (from any thread).</summary>
    internal BatchEncoding(int count)
    {
        _inputIds = new int[count][];
        _attentionMask = new int[count][];
        _tokenTypeIds = new int[count][];
        _specialTokensMask = new int[count][];
        _offsets = new TokenOffset[count][];
        _overflowToSample = new int[count];
    }

    /// <summary>Sets row <paramref name="r"/> from an assembled row (<c>[CLS] A [SEP]</c> or
    /// <c>[CLS] A [SEP] B [SEP]</c>, whose second part starts at <paramref name="secondStart"/>), padded to
    /// <paramref name="paddedLength"/> (a longer row keeps its length).</summary>
    internal void SetRow(int r, ReadOnlySpan<int> rowIds, ReadOnlySpan<TokenOffset> rowOffsets, int secondStart, int sample, int paddedLength, int padId)
    {
        int rowLength = rowIds.Length;
        int length = Math.Max(rowLength, paddedLength);
        var ids = new int[length];
        var mask = new int[length];
        var types = new int[length];
        var special = new int[length];
        var offsets = new TokenOffset[length];

        // Whole-range copies and fills (vectorized) rather than a per-token loop with branches.
        rowIds.CopyTo(ids);
        rowOffsets.CopyTo(offsets);
        mask.AsSpan(0, rowLength).Fill(1);
        if (secondStart < rowLength)
        {
            types.AsSpan(secondStart, rowLength - secondStart).Fill(1);
            special[secondStart - 1] = 1;
        }

        special[0] = 1;
        special[rowLength - 1] = 1;
        if (length > rowLength)
        {
            ids.AsSpan(rowLength).Fill(padId);
            special.AsSpan(rowLength).Fill(1);
        }

        Store(r, ids, mask, types, special, offsets, sample);
    }

    /// <summary>Sets row <paramref name="r"/> from any template's row: its ids, token types, special-token marks (1 for the
    /// template's tokens) and offsets, padded on the right to <paramref name="paddedLength"/> with <paramref name="padId"/>.</summary>
    internal void SetRow(int r, int[] rowIds, int[] rowTypes, int[] rowSpecial, TokenOffset[] rowOffsets, int sample, int paddedLength, int padId)
    {
        int rowLength = rowIds.Length;
        int length = Math.Max(rowLength, paddedLength);
        var mask = new int[length];
        mask.AsSpan(0, rowLength).Fill(1);
        int[] ids = rowIds;
        int[] types = rowTypes;
        int[] special = rowSpecial;
        TokenOffset[] offsets = rowOffsets;
        if (length > rowLength)
        {
            Array.Resize(ref ids, length);
            Array.Resize(ref types, length);
            Array.Resize(ref special, length);
            Array.Resize(ref offsets, length);
            ids.AsSpan(rowLength).Fill(padId);
            special.AsSpan(rowLength).Fill(1);
        }

        Store(r, ids, mask, types, special, offsets, sample);
    }

    private void Store(int r, int[] ids, int[] mask, int[] types, int[] special, TokenOffset[] offsets, int sample)
    {
        _inputIds[r] = ids;
        _attentionMask[r] = mask;
        _tokenTypeIds[r] = types;
        _specialTokensMask[r] = special;
        _offsets[r] = offsets;
        _overflowToSample[r] = sample;
    }

    /// <summary>Number of rows.</summary>
    public int Count => _inputIds.Length;

    /// <summary>Token ids of each row (<c>input_ids</c>).</summary>
    public IReadOnlyList<int[]> InputIds => _inputIds;

    /// <summary>1 for real tokens, 0 for padding (<c>attention_mask</c>).</summary>
    public IReadOnlyList<int[]> AttentionMask => _attentionMask;

    /// <summary>0 for the first text and its [CLS]/[SEP], 1 for the second text and its [SEP] (<c>token_type_ids</c>).</summary>
    public IReadOnlyList<int[]> TokenTypeIds => _tokenTypeIds;

    /// <summary>1 for the [CLS]/[SEP] added around the texts and for padding, 0 for text tokens
    /// (<c>special_tokens_mask</c>).</summary>
    public IReadOnlyList<int[]> SpecialTokensMask => _specialTokensMask;

    /// <summary>Char range of each token in its own text (the second text's tokens index the second text);
    /// (0, 0) for special and padding tokens.</summary>
    public IReadOnlyList<TokenOffset[]> Offsets => _offsets;

    /// <summary>For each row, the index of the input it comes from: the identity unless overflow windows were asked for.</summary>
    public IReadOnlyList<int> OverflowToSampleMapping => _overflowToSample;

    /// <summary>True when every row has the same length, i.e. the batch can become one tensor.</summary>
    public bool IsRectangular => _inputIds.Length == 0 || _inputIds.All(r => r.Length == _inputIds[0].Length);

    internal static long[] Flatten(IReadOnlyList<int[]> rows, int columns)
    {
        var flat = new long[rows.Count * columns];
        for (int r = 0; r < rows.Count; r++)
        {
            int[] row = rows[r];
            for (int c = 0; c < columns; c++)
            {
                flat[(r * columns) + c] = row[c];
            }
        }

        return flat;
    }
}
