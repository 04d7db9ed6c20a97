using System.Runtime.InteropServices;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// Piece → id for WordPiece's greedy longest-match: an open-addressing hash table over one shared char pool,
/// probed with a hash the caller computes itself.
/// </summary>
/// <remarks>
/// <para>Why not <c>Dictionary&lt;string,int&gt;</c> with a span lookup: its comparer is reached through two
/// interface calls per probe, and a per-char hash (such as FNV) is a chain of dependent multiplies, which profiling
/// showed to be as costly as the rest of the lookup. <see cref="Hash"/> reads four chars at a time instead;
/// entries are 16-byte structs in one array and the keys one char array, so a probe touches two cache lines at
/// most. Most words are whole pieces, found by the first probe.</para>
/// <para>Keys are the fixed vocabulary, so input text cannot lengthen probe sequences; the hash is seeded per process,
/// so a crafted vocabulary cannot pile its keys into one probe run either. Every hit is confirmed by comparing the
/// chars, so hash collisions cannot change ids. Immutable after construction, hence safe for concurrent use.</para>
/// </remarks>
internal sealed class PieceTable
{
    private const ulong Multiplier = 0x9E3779B97F4A7C15;
    private const uint Golden = 0x9E3779B9;

    // Random per process: the slots of a vocabulary cannot be predicted from its file.
    private static readonly ulong Seed = (ulong)Random.Shared.NextInt64() | 1;

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

    /// <summary>A hash of <paramref name="piece"/>, mixing four chars (one 64-bit word) per multiply.</summary>
    public static uint Hash(ReadOnlySpan<char> piece)
    {
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(piece);
        ulong hash = ((ulong)piece.Length ^ Seed) * Multiplier;
        if (bytes.Length >= sizeof(ulong))
        {
            int last = bytes.Length - sizeof(ulong);
            for (int i = 0; i < last; i += sizeof(ulong))
            {
                hash = (hash ^ MemoryMarshal.Read<ulong>(bytes[i..])) * Multiplier;
            }

            // The last (possibly overlapping) word: the length is already mixed in, so overlap cannot collide.
            hash = (hash ^ MemoryMarshal.Read<ulong>(bytes[last..])) * Multiplier;
        }
        else
        {
            ulong word = 0;
            for (int i = 0; i < piece.Length; i++)
            {
                word |= (ulong)piece[i] << (16 * i);
            }

            hash = (hash ^ word) * Multiplier;
        }

        return (uint)(hash ^ (hash >> 32));
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
