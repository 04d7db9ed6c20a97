namespace Bert.Sharp.Tokenization;

/// <summary>
/// A WordPiece vocabulary with allocation-free greedy longest-match-first lookups over spans.
/// </summary>
/// <remarks>
/// Word-initial pieces and continuation pieces (the ones written with the <c>##</c> prefix) live in two
/// dictionaries, the second keyed without the prefix, so a lookup never has to build a string.
/// Immutable after construction, hence safe for concurrent use.
/// </remarks>
internal sealed class WordPieceVocabulary
{
    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _byToken;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _initial;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _continuation;
    private readonly int _maxInitialLength;
    private readonly int _maxContinuationLength;

    /// <summary>Builds the vocabulary from token → id pairs (ids need not be contiguous).</summary>
    public WordPieceVocabulary(IEnumerable<KeyValuePair<string, int>> entries, string continuingSubwordPrefix)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ContinuingSubwordPrefix = continuingSubwordPrefix ?? string.Empty;
        _byToken = new Dictionary<string, int>(StringComparer.Ordinal);
        var initial = new Dictionary<string, int>(OrdinalSpanComparer.Instance);
        var continuation = new Dictionary<string, int>(OrdinalSpanComparer.Instance);
        int maxId = -1;
        foreach (KeyValuePair<string, int> entry in entries)
        {
            _byToken[entry.Key] = entry.Value;
            maxId = Math.Max(maxId, entry.Value);
        }

        _tokens = new string[maxId + 1];
        foreach (KeyValuePair<string, int> entry in _byToken)
        {
            _tokens[entry.Value] ??= entry.Key;
            initial[entry.Key] = entry.Value;
            _maxInitialLength = Math.Max(_maxInitialLength, entry.Key.Length);
            if (ContinuingSubwordPrefix.Length > 0 && entry.Key.StartsWith(ContinuingSubwordPrefix, StringComparison.Ordinal))
            {
                string rest = entry.Key[ContinuingSubwordPrefix.Length..];
                continuation[rest] = entry.Value;
                _maxContinuationLength = Math.Max(_maxContinuationLength, rest.Length);
            }
        }

        if (ContinuingSubwordPrefix.Length == 0)
        {
            continuation = initial;
            _maxContinuationLength = _maxInitialLength;
        }

        _initial = initial.GetAlternateLookup<ReadOnlySpan<char>>();
        _continuation = continuation.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The prefix of continuation pieces, usually <c>##</c>.</summary>
    public string ContinuingSubwordPrefix { get; }

    /// <summary>Number of ids (largest id + 1).</summary>
    public int Count => _tokens.Length;

    /// <summary>Token → id for the whole vocabulary.</summary>
    public IReadOnlyDictionary<string, int> TokenToId => _byToken;

    /// <summary>The token of an id, or null when no token has that id.</summary>
    public string? GetToken(int id) => (uint)id < (uint)_tokens.Length ? _tokens[id] : null;

    /// <summary>The id of an exact token, if any.</summary>
    public bool TryGetId(string token, out int id) => _byToken.TryGetValue(token, out id);

    /// <summary>
    /// Greedy longest-match-first WordPiece over one normalized word. Writes the piece ids and their
    /// [start, end) char ranges within <paramref name="word"/>; returns the number of pieces, or -1 when
    /// some part of the word matches no piece (the caller emits the unknown token for the whole word).
    /// </summary>
    public int Split(ReadOnlySpan<char> word, Span<int> ids, Span<int> pieceEnds)
    {
        int count = 0;
        int start = 0;
        while (start < word.Length)
        {
            bool first = start == 0;
            int maxLength = first ? _maxInitialLength : _maxContinuationLength;
            int end = Math.Min(word.Length, start + maxLength);
            int found = -1;
            while (end > start)
            {
                // Never cut a surrogate pair in half: pieces are made of whole characters.
                if (end < word.Length && char.IsLowSurrogate(word[end]) && char.IsHighSurrogate(word[end - 1]))
                {
                    end--;
                    continue;
                }

                ReadOnlySpan<char> candidate = word[start..end];
                if ((first ? _initial : _continuation).TryGetValue(candidate, out found))
                {
                    break;
                }

                found = -1;
                end--;
            }

            if (found < 0)
            {
                return -1;
            }

            if (count == ids.Length)
            {
                return -2;
            }

            ids[count] = found;
            pieceEnds[count] = end;
            count++;
            start = end;
        }

        return count;
    }
}
