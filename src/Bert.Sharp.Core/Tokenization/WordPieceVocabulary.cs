namespace Bert.Sharp.Tokenization;

/// <summary>
/// A WordPiece vocabulary with allocation-free greedy longest-match-first lookups over spans.
/// </summary>
/// <remarks>
/// Word-initial pieces and continuation pieces (the ones written with the <c>##</c> prefix) live in two
/// <see cref="PieceTable"/>s, the second keyed without the prefix, so a lookup never has to build a string.
/// Immutable after construction, hence safe for concurrent use.
/// </remarks>
internal sealed class WordPieceVocabulary
{
    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _byToken;
    private readonly PieceTable _initial;
    private readonly PieceTable _continuation;
    private readonly bool[] _isContinuation;

    /// <summary>Largest id table accepted: no BERT vocabulary comes near ten million ids.</summary>
    internal const int MaxIds = 10_000_000;

    /// <summary>
    /// Ids need not be contiguous, but the id table (largest id + 1) may be at most this many times the number of
    /// entries, plus <see cref="IdSlack"/>: a single id of 2·10^9 once allocated a 16 GB table.
    /// </summary>
    internal const int IdTableFactor = 4;

    /// <summary>Gaps allowed in the id table of a small vocabulary, whatever its entry count.</summary>
    internal const int IdSlack = 1024;

    /// <summary>Builds the vocabulary from token → id pairs (ids need not be contiguous).</summary>
    /// <param name="entries">Token → id; a token listed twice keeps its last id, as Hugging Face's readers do.</param>
    /// <param name="continuingSubwordPrefix">Prefix of continuation pieces (<c>##</c>).</param>
    /// <param name="source">The file the entries came from, named in errors.</param>
    /// <exception cref="InvalidDataException">An id is negative, or the ids span a table far larger than the entries.</exception>
    public WordPieceVocabulary(IEnumerable<KeyValuePair<string, int>> entries, string continuingSubwordPrefix, string source)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ContinuingSubwordPrefix = continuingSubwordPrefix ?? string.Empty;
        _byToken = new Dictionary<string, int>(StringComparer.Ordinal);
        var continuation = new List<KeyValuePair<string, int>>();
        long maxId = -1;
        foreach (KeyValuePair<string, int> entry in entries)
        {
            if (entry.Value < 0)
            {
                throw new InvalidDataException($"'{source}': token '{entry.Key}' has the negative id {entry.Value}.");
            }

            _byToken[entry.Key] = entry.Value;
            maxId = Math.Max(maxId, entry.Value);
        }

        long tableSize = maxId + 1;
        if (tableSize > MaxIds || tableSize > ((long)IdTableFactor * _byToken.Count) + IdSlack)
        {
            throw new InvalidDataException(
                $"'{source}': the largest token id is {maxId} for {_byToken.Count} tokens; ids must stay below {MaxIds} and below {IdTableFactor}× the token count + {IdSlack} (the id table would be mostly empty).");
        }

        _tokens = new string[tableSize];
        _isContinuation = new bool[tableSize];
        foreach (KeyValuePair<string, int> entry in _byToken)
        {
            _tokens[entry.Value] ??= entry.Key;
            if (ContinuingSubwordPrefix.Length > 0 && entry.Key.StartsWith(ContinuingSubwordPrefix, StringComparison.Ordinal))
            {
                continuation.Add(new(entry.Key[ContinuingSubwordPrefix.Length..], entry.Value));
                _isContinuation[entry.Value] = true;
            }
        }

        _initial = new PieceTable(_byToken);
        _continuation = ContinuingSubwordPrefix.Length == 0 ? _initial : new PieceTable(continuation);
    }

    /// <summary>The prefix of continuation pieces, usually <c>##</c>.</summary>
    public string ContinuingSubwordPrefix { get; }

    /// <summary>Number of ids (largest id + 1).</summary>
    public int Count => _tokens.Length;

    /// <summary>Token → id for the whole vocabulary.</summary>
    public IReadOnlyDictionary<string, int> TokenToId => _byToken;

    /// <summary>The token of an id, or null when no token has that id.</summary>
    public string? GetToken(int id) => (uint)id < (uint)_tokens.Length ? _tokens[id] : null;

    /// <summary>Whether the id's token is a continuation piece (starts with <see cref="ContinuingSubwordPrefix"/>). With
    /// BERT's <c>##</c> a word's first piece never is: <c>#</c> is punctuation, which pre-tokenization splits off.</summary>
    public bool IsContinuation(int id) => (uint)id < (uint)_isContinuation.Length && _isContinuation[id];

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
            PieceTable table = start == 0 ? _initial : _continuation;
            int limit = Math.Min(word.Length, start + table.MaxLength);

            int end = limit;
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
                found = table.Find(PieceTable.Hash(candidate), candidate);
                if (found >= 0)
                {
                    break;
                }

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
