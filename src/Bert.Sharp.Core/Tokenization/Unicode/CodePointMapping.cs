namespace Bert.Sharp.Tokenization.Unicode;

/// <summary>
/// A mapping from code points to short strings (a canonical decomposition, a lower-case form), from the generated
/// sorted keys and the concatenated UTF-16 mappings in <see cref="UnicodeTables"/>.
/// </summary>
internal sealed class CodePointMapping
{
    private readonly ushort[] _starts;
    private readonly string _chars;
    private readonly CodePointTable<ushort> _slots; // 1 + the index of the code point's key, 0 when it has none.

    public CodePointMapping(int[] keys, ushort[] starts, string chars)
    {
        _starts = starts;
        _chars = chars;
        int[] sorted = keys;
        _slots = CodePointTable<ushort>.Build((first, block) =>
        {
            int i = Array.BinarySearch(sorted, first);
            for (i = i < 0 ? ~i : i; i < sorted.Length && sorted[i] < first + block.Length; i++)
            {
                block[sorted[i] - first] = checked((ushort)(i + 1));
            }
        });
    }

    /// <summary>The mapping of <paramref name="codePoint"/>, or an empty span when it has none.</summary>
    public ReadOnlySpan<char> this[int codePoint]
    {
        get
        {
            int slot = _slots[codePoint];
            return slot == 0 ? default : _chars.AsSpan(_starts[slot - 1], _starts[slot] - _starts[slot - 1]);
        }
    }
}
