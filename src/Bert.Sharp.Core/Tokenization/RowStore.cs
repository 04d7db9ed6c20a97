using System.Buffers;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// Assembled rows (ids and offsets, [CLS]/[SEP] included) of a batch, packed one after another in arrays rented
/// from <see cref="ArrayPool{T}"/>, until the batch's padded length is known and the rows are copied out.
/// </summary>
/// <remarks>
/// Why pooled storage: a batch used to keep three arrays and an object per row between encoding and padding, which
/// is garbage as soon as the batch is built. In parallel encoding that garbage set the pace of gen-0 collections,
/// which stop every thread. Rows are addressed by position, never by array, so growing (copying to a larger
/// rented array) is safe. One store is written by one thread; <see cref="Release"/> returns its arrays.
/// </remarks>
internal sealed class RowStore
{
    private int[] _ids;
    private TokenOffset[] _offsets;
    private Row[] _rows;
    private int _used;

    /// <summary>Creates a store sized for about <paramref name="expectedTokens"/> tokens in <paramref name="expectedRows"/> rows.</summary>
    public RowStore(int expectedTokens, int expectedRows)
    {
        _ids = ArrayPool<int>.Shared.Rent(Math.Max(expectedTokens, 64));
        _offsets = ArrayPool<TokenOffset>.Shared.Rent(_ids.Length);
        _rows = ArrayPool<Row>.Shared.Rent(Math.Max(expectedRows, 4));
    }

    /// <summary>Number of rows held.</summary>
    public int Count { get; private set; }

    /// <summary>Length (in tokens) of row <paramref name="index"/>.</summary>
    public int LengthOf(int index) => _rows[index].Length;

    /// <summary>The input row <paramref name="index"/> came from.</summary>
    public int SampleOf(int index) => _rows[index].Sample;

    /// <summary>Drops every row (the arrays stay rented).</summary>
    public void Clear()
    {
        Count = 0;
        _used = 0;
    }

    /// <summary>Assembles a row from the tokens of one input and stores it.</summary>
    public void Add(TokenBuffer first, TokenBuffer? second, RowSpan span, int sample, int clsId, int sepId)
    {
        int length = span.Length(second is not null);
        EnsureRoom(length);
        int secondStart = SequenceAssembler.Write(
            first, second, span, clsId, sepId, _ids.AsSpan(_used, length), _offsets.AsSpan(_used, length));
        _rows[Count++] = new Row(_used, length, secondStart, sample);
        _used += length;
    }

    /// <summary>Pads row <paramref name="index"/> into row <paramref name="target"/> of <paramref name="batch"/>.</summary>
    public void CopyTo(int index, BatchEncoding batch, int target, int paddedLength, int padId)
    {
        Row row = _rows[index];
        batch.SetRow(
            target,
            _ids.AsSpan(row.Start, row.Length),
            _offsets.AsSpan(row.Start, row.Length),
            row.SecondStart,
            row.Sample,
            paddedLength,
            padId);
    }

    /// <summary>Returns the arrays to the pool; the store must not be used afterwards.</summary>
    public void Release()
    {
        ArrayPool<int>.Shared.Return(_ids);
        ArrayPool<TokenOffset>.Shared.Return(_offsets);
        ArrayPool<Row>.Shared.Return(_rows);
        _ids = [];
        _offsets = [];
        _rows = [];
    }

    private void EnsureRoom(int length)
    {
        if (_used + length > _ids.Length)
        {
            int size = Math.Max(_ids.Length * 2, _used + length);
            _ids = Grow(_ids, size, _used);
            _offsets = Grow(_offsets, size, _used);
        }

        if (Count == _rows.Length)
        {
            _rows = Grow(_rows, Count * 2, Count);
        }
    }

    private static T[] Grow<T>(T[] old, int size, int used)
    {
        T[] grown = ArrayPool<T>.Shared.Rent(size);
        old.AsSpan(0, used).CopyTo(grown);
        ArrayPool<T>.Shared.Return(old);
        return grown;
    }

    private readonly record struct Row(int Start, int Length, int SecondStart, int Sample);
}
