using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// Hugging Face's <c>Precompiled</c> normalizer: SentencePiece's compiled normalization rules (<c>precompiled_charsmap</c>,
/// a Darts-clone double-array trie over UTF-8 keys and a blob of NUL-terminated replacements). As the Rust code, each
/// extended grapheme cluster shorter than 6 UTF-8 bytes is first looked up whole (the shortest matching prefix
/// wins), otherwise each code point on its own.
/// </summary>
internal sealed class PrecompiledNormalizer : ITextNormalizer
{
    private readonly uint[] _trie;
    private readonly byte[] _normalized;

    private PrecompiledNormalizer(uint[] trie, byte[] normalized)
    {
        _trie = trie;
        _normalized = normalized;
    }

    /// <summary>Parses a charsmap (the base64-decoded <c>precompiled_charsmap</c>).</summary>
    /// <exception cref="InvalidDataException">The blob is truncated.</exception>
    public static PrecompiledNormalizer Parse(byte[] charsmap, string source)
    {
        if (charsmap.Length < 4)
        {
            throw new InvalidDataException($"'{source}': $.normalizer precompiled_charsmap is {charsmap.Length} bytes, too short for its header.");
        }

        uint trieBytes = BinaryPrimitives.ReadUInt32LittleEndian(charsmap);
        if (trieBytes % 4 != 0 || trieBytes > charsmap.Length - 4 || trieBytes == 0)
        {
            throw new InvalidDataException($"'{source}': $.normalizer precompiled_charsmap declares a trie of {trieBytes} bytes in a blob of {charsmap.Length}.");
        }

        var trie = new uint[trieBytes / 4];
        for (int i = 0; i < trie.Length; i++)
        {
            trie[i] = BinaryPrimitives.ReadUInt32LittleEndian(charsmap.AsSpan(4 + (i * 4)));
        }

        return new PrecompiledNormalizer(trie, charsmap[(4 + (int)trieBytes)..]);
    }

    /// <inheritdoc />
    public void Normalize(AlignedText text)
    {
        string s = text.ToString();
        var transformations = new List<(int, int)>(text.Count);
        bool modified = false;
        Span<byte> utf8 = stackalloc byte[64];
        for (int i = 0; i < s.Length;)
        {
            int length = StringInfo.GetNextTextElementLength(s, i);
            ReadOnlySpan<char> grapheme = s.AsSpan(i, length);
            int graphemeCodePoints = CountCodePoints(grapheme);
            int byteCount = Encoding.UTF8.GetByteCount(grapheme);
            if (byteCount < 6)
            {
                Encoding.UTF8.GetBytes(grapheme, utf8);
                if (Transform(utf8[..byteCount]) is { } whole)
                {
                    modified = true;
                    ReplaceNormalizer.Replace(transformations, graphemeCodePoints, whole);
                    i += length;
                    continue;
                }
            }

            foreach (Rune rune in grapheme.EnumerateRunes())
            {
                int n = rune.EncodeToUtf8(utf8);
                if (Transform(utf8[..n]) is { } part)
                {
                    modified = true;
                    ReplaceNormalizer.Replace(transformations, 1, part);
                }
                else
                {
                    transformations.Add((rune.Value, 0));
                }
            }

            i += length;
        }

        if (modified)
        {
            text.Transform(transformations);
        }
    }

    private static int CountCodePoints(ReadOnlySpan<char> s)
    {
        int n = 0;
        foreach (Rune _ in s.EnumerateRunes())
        {
            n++;
        }

        return n;
    }

    // The replacement of the shortest key that is a prefix of `key`, as code points; null when none is.
    private int[]? Transform(ReadOnlySpan<byte> key)
    {
        int value = ShortestPrefixValue(key);
        if (value < 0 || value >= _normalized.Length)
        {
            return null;
        }

        int end = value;
        while (end < _normalized.Length && _normalized[end] != 0)
        {
            end++;
        }

        string replacement = Encoding.UTF8.GetString(_normalized, value, end - value);
        return replacement.EnumerateRunes().Select(r => r.Value).ToArray();
    }

    // Darts-clone common prefix search (spm_precompiled's), returning the first (shortest) result or -1.
    private int ShortestPrefixValue(ReadOnlySpan<byte> key)
    {
        uint nodePos = 0;
        uint unit = _trie[0];
        nodePos ^= Offset(unit);
        foreach (byte c in key)
        {
            if (c == 0)
            {
                break;
            }

            nodePos ^= c;
            if (nodePos >= _trie.Length)
            {
                return -1;
            }

            unit = _trie[nodePos];
            if (Label(unit) != c)
            {
                return -1;
            }

            nodePos ^= Offset(unit);
            if (HasLeaf(unit))
            {
                return nodePos < _trie.Length ? (int)(_trie[nodePos] & 0x7FFFFFFFu) : -1;
            }
        }

        return -1;
    }

    private static bool HasLeaf(uint unit) => ((unit >> 8) & 1) == 1;

    private static uint Label(uint unit) => unit & (0x80000000u | 0xFFu);

    private static uint Offset(uint unit) => (unit >> 10) << (int)((unit & (1u << 9)) >> 6);
}
