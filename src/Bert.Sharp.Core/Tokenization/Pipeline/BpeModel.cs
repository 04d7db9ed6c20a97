using System.Collections.Concurrent;
using System.Text;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// Hugging Face's <c>BPE</c> model over byte-level pieces: each piece's UTF-8 bytes become GPT-2's printable
/// alphabet, then the lowest-ranked adjacent pair (leftmost on ties) is merged until no merge applies.
/// </summary>
internal sealed class BpeModel
{
    private static readonly char[] ByteToChar = BuildAlphabet();
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<(string, string), int> _ranks;
    private readonly bool _ignoreMerges;
    private readonly ConcurrentDictionary<string, (string Token, int Id)[]> _cache = new(StringComparer.Ordinal);

    public BpeModel(Dictionary<string, int> vocab, Dictionary<(string, string), int> ranks, bool ignoreMerges)
    {
        _vocab = vocab;
        _ranks = ranks;
        _ignoreMerges = ignoreMerges;
    }

    /// <summary>The byte-level character of each byte value.</summary>
    public static IReadOnlyList<char> Alphabet => ByteToChar;

    /// <summary>Tokens of one piece: ids and, per token, the range of the piece's bytes it covers.</summary>
    public void Encode(AlignedText text, int start, int end, List<EncodedPiece> output)
    {
        var bytes = new List<(byte Byte, int Char)>();
        Span<byte> buffer = stackalloc byte[4];
        for (int i = start; i < end; i++)
        {
            int n = new Rune(text[i].CodePoint).EncodeToUtf8(buffer);
            for (int b = 0; b < n; b++)
            {
                bytes.Add((buffer[b], i));
            }
        }

        var mapped = new StringBuilder(bytes.Count);
        foreach ((byte b, _) in bytes)
        {
            mapped.Append(ByteToChar[b]);
        }

        string word = mapped.ToString();
        (string Token, int Id)[] tokens = _cache.GetOrAdd(word, Merge);
        int position = 0;
        foreach ((string token, int id) in tokens)
        {
            int first = bytes[position].Char;
            int last = bytes[position + token.Length - 1].Char;
            position += token.Length;
            if (id >= 0)
            {
                output.Add(new EncodedPiece(id, token, text[first].Start, text[last].End));
            }
        }
    }

    private (string, int)[] Merge(string word)
    {
        if (_ignoreMerges && _vocab.TryGetValue(word, out int whole))
        {
            return [(word, whole)];
        }

        var symbols = word.Select(c => c.ToString()).ToList();
        while (symbols.Count > 1)
        {
            int best = -1;
            int bestRank = int.MaxValue;
            for (int k = 0; k + 1 < symbols.Count; k++)
            {
                if (_ranks.TryGetValue((symbols[k], symbols[k + 1]), out int rank) && rank < bestRank)
                {
                    bestRank = rank;
                    best = k;
                }
            }

            if (best < 0)
            {
                break;
            }

            symbols[best] += symbols[best + 1];
            symbols.RemoveAt(best + 1);
        }

        return symbols.Select(s => (s, _vocab.TryGetValue(s, out int id) ? id : -1)).ToArray();
    }

    private static char[] BuildAlphabet()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)next++;
        }

        return map;
    }
}

/// <summary>A token of the model: id, its string and the original UTF-16 range [Start, End).</summary>
internal readonly record struct EncodedPiece(int Id, string Token, int Start, int End);
