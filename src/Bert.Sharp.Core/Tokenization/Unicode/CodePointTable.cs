namespace Bert.Sharp.Tokenization.Unicode;

/// <summary>
/// One value per Unicode code point in a two-stage table: an index per block of 256 code points, and the distinct
/// blocks. Built once from the compact generated data in <see cref="UnicodeTables"/>; a lookup is two array reads.
/// </summary>
/// <typeparam name="T">The value type (a byte of flags or a combining class, a ushort index).</typeparam>
internal sealed class CodePointTable<T>
    where T : unmanaged, IEquatable<T>
{
    private const int BlockBits = 8;
    private const int BlockSize = 1 << BlockBits;
    private const int BlockCount = 0x110000 >> BlockBits;

    private readonly ushort[] _blockIndex;
    private readonly T[] _values;

    private CodePointTable(ushort[] blockIndex, T[] values)
    {
        _blockIndex = blockIndex;
        _values = values;
    }

    /// <summary>The value of <paramref name="codePoint"/> (0 to 0x10FFFF).</summary>
    public T this[int codePoint] => _values[(_blockIndex[codePoint >> BlockBits] << BlockBits) | (codePoint & (BlockSize - 1))];

    /// <summary>Builds the table block by block: <paramref name="fill"/> writes the values of the block that starts
    /// at the given code point (the span is cleared first); identical blocks are stored once.</summary>
    public static CodePointTable<T> Build(Action<int, Span<T>> fill)
    {
        var index = new ushort[BlockCount];
        var blocks = new List<T[]>();
        var seen = new Dictionary<BlockKey, ushort>();
        for (int b = 0; b < BlockCount; b++)
        {
            var block = new T[BlockSize];
            fill(b << BlockBits, block);
            var key = new BlockKey(block);
            if (!seen.TryGetValue(key, out ushort slot))
            {
                slot = checked((ushort)blocks.Count);
                blocks.Add(block);
                seen.Add(key, slot);
            }

            index[b] = slot;
        }

        var values = new T[blocks.Count * BlockSize];
        for (int i = 0; i < blocks.Count; i++)
        {
            blocks[i].CopyTo(values, i * BlockSize);
        }

        return new CodePointTable<T>(index, values);
    }

    private readonly struct BlockKey(T[] block) : IEquatable<BlockKey>
    {
        private readonly T[] _block = block;

        public bool Equals(BlockKey other) => _block.AsSpan().SequenceEqual(other._block);

        public override bool Equals(object? obj) => obj is BlockKey other && Equals(other);

        public override int GetHashCode()
        {
            var hash = default(HashCode);
            foreach (T value in _block)
            {
                hash.Add(value);
            }

            return hash.ToHashCode();
        }
    }
}
