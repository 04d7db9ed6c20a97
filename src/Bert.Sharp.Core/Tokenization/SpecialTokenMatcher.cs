using System.Buffers;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// Finds special tokens (such as <c>[SEP]</c> or <c>[MASK]</c>) written inside raw text, leftmost-longest and
/// case-sensitive, before any normalization — as Hugging Face does for its non-normalized added tokens.
/// </summary>
/// <remarks>
/// The tokens form a trie (one hash entry per (node, char) edge). A candidate position is found with a vectorized search
/// for the tokens' first chars, then the trie is walked once, remembering the deepest token end: the cost per position is
/// bounded by the longest token, whatever the number of tokens (trying each token in turn was O(text × tokens)).
/// Immutable after construction, hence safe for concurrent use.
/// </remarks>
internal sealed class SpecialTokenMatcher
{
    private const int Root = 0;

    // (node << 16 | char) → child node.
    private readonly Dictionary<long, int> _edges = [];

    // Token id of the token ending at each node, or -1.
    private readonly List<int> _ids = [-1];
    private readonly SearchValues<char>? _firstChars;

    /// <summary>Creates a matcher over the given token texts and ids; empty texts are ignored, and of two equal texts the first wins.</summary>
    public SpecialTokenMatcher(IEnumerable<(string Text, int Id)> tokens)
    {
        var firstChars = new HashSet<char>();
        foreach ((string text, int id) in tokens)
        {
            if (text.Length == 0)
            {
                continue;
            }

            firstChars.Add(text[0]);
            int node = Root;
            foreach (char c in text)
            {
                long edge = Edge(node, c);
                if (!_edges.TryGetValue(edge, out int child))
                {
                    child = _ids.Count;
                    _ids.Add(-1);
                    _edges.Add(edge, child);
                }

                node = child;
            }

            if (_ids[node] < 0)
            {
                _ids[node] = id;
            }
        }

        _firstChars = firstChars.Count == 0 ? null : SearchValues.Create([.. firstChars]);
    }

    /// <summary>
    /// The next special token at or after <paramref name="from"/>: its position, length and id; position -1 when
    /// none is left.
    /// </summary>
    public (int Index, int Length, int Id) FindNext(ReadOnlySpan<char> text, int from)
    {
        if (_firstChars is null)
        {
            return (-1, 0, 0);
        }

        while (from < text.Length)
        {
            int relative = text[from..].IndexOfAny(_firstChars);
            if (relative < 0)
            {
                return (-1, 0, 0);
            }

            int index = from + relative;
            int node = Root;
            int length = 0;
            int id = -1;
            for (int i = index; i < text.Length && _edges.TryGetValue(Edge(node, text[i]), out node); i++)
            {
                if (_ids[node] >= 0)
                {
                    length = i - index + 1;
                    id = _ids[node];
                }
            }

            if (id >= 0)
            {
                return (index, length, id);
            }

            from = index + 1;
        }

        return (-1, 0, 0);
    }

    private static long Edge(int node, char c) => ((long)node << 16) | c;
}
