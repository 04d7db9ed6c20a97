using System.Buffers;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// Finds special tokens (such as <c>[SEP]</c> or <c>[MASK]</c>) written inside raw text, leftmost-longest and
/// case-sensitive, before any normalization — as Hugging Face does for its non-normalized added tokens.
/// </summary>
internal sealed class SpecialTokenMatcher
{
    private readonly (string Text, int Id)[] _tokens;
    private readonly SearchValues<char>? _firstChars;

    /// <summary>Creates a matcher over the given token texts and ids; empty texts are ignored.</summary>
    public SpecialTokenMatcher(IEnumerable<(string Text, int Id)> tokens)
    {
        _tokens = tokens.Where(t => t.Text.Length > 0)
            .DistinctBy(t => t.Text, StringComparer.Ordinal)
            .OrderByDescending(t => t.Text.Length)
            .ToArray();
        _firstChars = _tokens.Length == 0 ? null : SearchValues.Create(_tokens.Select(t => t.Text[0]).Distinct().ToArray());
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
            ReadOnlySpan<char> rest = text[index..];
            foreach ((string candidate, int id) in _tokens)
            {
                if (rest.StartsWith(candidate, StringComparison.Ordinal))
                {
                    return (index, candidate.Length, id);
                }
            }

            from = index + 1;
        }

        return (-1, 0, 0);
    }
}
