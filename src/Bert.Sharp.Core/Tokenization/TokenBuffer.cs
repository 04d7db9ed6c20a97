namespace Bert.Sharp.Tokenization;

/// <summary>
/// A growable list of tokens (id plus [start, end) char offsets in the original text), reused across calls on
/// one thread (<see cref="TokenizerScratch"/>) so the hot path does not allocate per token.
/// </summary>
internal sealed class TokenBuffer
{
    private int[] _ids = new int[256];
    private int[] _starts = new int[256];
    private int[] _ends = new int[256];

    /// <summary>Number of tokens held.</summary>
    public int Count { get; private set; }

    /// <summary>The token ids, valid up to <see cref="Count"/>.</summary>
    public ReadOnlySpan<int> Ids => _ids.AsSpan(0, Count);

    /// <summary>Start offsets, valid up to <see cref="Count"/>.</summary>
    public ReadOnlySpan<int> Starts => _starts.AsSpan(0, Count);

    /// <summary>End offsets (exclusive), valid up to <see cref="Count"/>.</summary>
    public ReadOnlySpan<int> Ends => _ends.AsSpan(0, Count);

    /// <summary>Empties the buffer; a buffer that grew very large is shrunk so a one-off megabyte text does not
    /// pin memory on the thread.</summary>
    public void Clear()
    {
        Count = 0;
        if (_ids.Length > 1 << 16)
        {
            _ids = new int[256];
            _starts = new int[256];
            _ends = new int[256];
        }
    }

    /// <summary>Appends a token.</summary>
    public void Add(int id, int start, int end)
    {
        if (Count == _ids.Length)
        {
            Grow();
        }

        _ids[Count] = id;
        _starts[Count] = start;
        _ends[Count] = end;
        Count++;
    }

    /// <summary>Drops tokens past <paramref name="count"/>.</summary>
    public void Truncate(int count) => Count = Math.Min(Count, count);

    private void Grow()
    {
        int size = _ids.Length * 2;
        Array.Resize(ref _ids, size);
        Array.Resize(ref _starts, size);
        Array.Resize(ref _ends, size);
    }
}
