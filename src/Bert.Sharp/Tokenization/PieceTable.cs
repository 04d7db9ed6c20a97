namespace Bert.Sharp.Tokenization;

/// <summary>
/// Piece → id for WordPiece's greedy longest-match: an open-addressing hash table over one shared char pool,
/// probed with a hash the caller computes itself.
/// </summary>
/// <remarks>
/// <para>Why not <c>Dictionary&lt;string,int&gt;</c> with a span lookup: WordPiece tries the prefixes of a word
/// from longest to shortest, and a dictionary re-hashes each candidate from scratch and goes through two interface
/// calls of its comparer per probe. The hash here (FNV-1a) is a left-to-right fold, so the caller hashes all
/// prefixes of a word in one pass (<see cref="Step"/>) and each candidate costs one probe; entries are 16-byte
/// structs in one array and the keys one char array, so a probe touches two cache lines at most.</para>
/// <para>Keys are the fixed vocabulary, so input text cannot lengthen probe sequences. Every hit is confirmed by
/// comparing the chars, so hash collisions cannot change ids. Immutable after construction, hence safe for
/// concurrent use.</para>
/// </remarks>
internal sealed class PieceTable
{
    /// <summary>The hash of the empty string; fold chars in with <see cref="Step"/>.</summary>
    public const uint Seed = 2166136261;

    private const uint Prime = 16777619;
    private const uint Golden = 0x9E3779B9;

    private readonly Entry[] _entries;
    private readonly char[] _keys;
    private readonly int _shift;

    /// <summary>Builds the table from piece → id pairs; empty pieces are ignored (WordPiece never looks one up).</summary>
    public PieceTable(IReadOnlyCollection<KeyValuePair<string, int>> pieces)
    {
        int capacity = 16;
        while (capacity < 2 * pieces.Count)
        {
            capacity *= 2; // Load factor at most 1/2: misses (most WordPiece probes) end after a short run.
        }

        _entries = new Entry[capacity];
        _shift = 32 - System.Numerics.BitOperations.Log2((uint)capacity);
        int totalChars = 0;
        foreach (KeyValuePair<string, int> piece in pieces)
        {
            totalChars += piece.Key.Length;
        }

        _keys = new char[totalChars];
        int next = 0;
        uint mask = (uint)capacity - 1;
        foreach ((string key, int id) in pieces)
        {
            if (key.Length == 0)
            {
                continue;
            }

            MaxLength = Math.Max(MaxLength, key.Length);
            uint hash = Hash(key);
            uint slot = Slot(hash);
            while (_entries[slot].Length != 0)
            {
                slot = (slot + 1) & mask;
            }

            key.CopyTo(_keys.AsSpan(next));
            _entries[slot] = new Entry(hash, id, next, key.Length);
            next += key.Length;
        }
    }

    /// <summary>Length of the longest piece, in chars.</summary>
    public int MaxLength { get; }

    /// <summary>Folds one more char into a running hash.</summary>
    public static uint Step(uint hash, char c) => (hash ^ c) * Prime;

    /// <summary>The hash of a whole piece (what <see cref="Step"/> from <see cref="Seed"/> gives).</summary>
    public static uint Hash(ReadOnlySpan<char> piece)
    {
        uint hash = Seed;
        foreach (char c in piece)
        {
            hash = Step(hash, c);
        }

        return hash;
    }

    /// <summary>The id of <paramref name="piece"/>, whose hash is <paramref name="hash"/>; -1 when absent.</summary>
    public int Find(uint hash, ReadOnlySpan<char> piece)
    {
        Entry[] entries = _entries;
        uint mask = (uint)entries.Length - 1;
        uint slot = Slot(hash);
        while (true)
        {
            Entry entry = entries[slot];
            if (entry.Length == 0)
            {
                return -1;
            }

            if (entry.Hash == hash && entry.Length == piece.Length
                && piece.SequenceEqual(_keys.AsSpan(entry.Start, entry.Length)))
            {
                return entry.Id;
            }

            slot = (slot + 1) & mask;
        }
    }

    // FNV-1a mixes into the high bits; a Fibonacci multiply spreads them before taking the top bits as the slot.
    private uint Slot(uint hash) => (hash * Golden) >> _shift;

    private readonly record struct Entry(uint Hash, int Id, int Start, int Length);
}
