namespace Bert.Sharp.Tokenization;

/// <summary>
/// Hugging Face's <c>Replace</c> normalizer for the patterns converted SentencePiece tokenizers use: a literal string,
/// or a regex that is one literal code point repeated at least N times (<c>" {2,}"</c>). Matches are found left to
/// right without overlap and replaced by the content.
/// </summary>
internal sealed class ReplaceNormalizer : ITextNormalizer
{
    private readonly int[] _literal;
    private readonly int _repeatedCodePoint;
    private readonly int _minimumRepeats;
    private readonly int[] _content;

    private ReplaceNormalizer(int[] literal, int repeatedCodePoint, int minimumRepeats, int[] content)
    {
        _literal = literal;
        _repeatedCodePoint = repeatedCodePoint;
        _minimumRepeats = minimumRepeats;
        _content = content;
    }

    /// <summary>Replaces each occurrence of <paramref name="pattern"/>.</summary>
    public static ReplaceNormalizer ForString(string pattern, string content) =>
        new(CodePoints(pattern), -1, 0, CodePoints(content));

    /// <summary>Replaces each run of at least <paramref name="minimumRepeats"/> <paramref name="codePoint"/>s.</summary>
    public static ReplaceNormalizer ForRepeat(int codePoint, int minimumRepeats, string content) =>
        new([], codePoint, minimumRepeats, CodePoints(content));

    /// <summary>Reads the regex form <c>X{n,}</c> (X one literal code point, not a regex metacharacter, n ≥ 1); null
    /// for any other regex.</summary>
    public static (int CodePoint, int Minimum)? ParseRepeat(string regex)
    {
        var runes = regex.EnumerateRunes().ToArray();
        if (runes.Length < 5 || runes[1].Value != '{' || runes[^1].Value != '}' || runes[^2].Value != ',')
        {
            return null;
        }

        if ("\\^$.|?*+()[]{}".Contains((char)runes[0].Value, StringComparison.Ordinal) && runes[0].Value < 128)
        {
            return null;
        }

        string digits = regex[(runes[0].Utf16SequenceLength + 1)..^2];
        return digits.Length is > 0 and < 6 && digits.All(char.IsAsciiDigit) && int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture) is int n and > 0
            ? (runes[0].Value, n)
            : null;
    }

    /// <inheritdoc />
    public void Normalize(AlignedText text)
    {
        var transformations = new List<(int, int)>(text.Count);
        bool modified = false;
        int i = 0;
        while (i < text.Count)
        {
            int length = MatchAt(text, i);
            if (length == 0)
            {
                transformations.Add((text[i].CodePoint, 0));
                i++;
                continue;
            }

            modified = true;
            Replace(transformations, length, _content);
            i += length;
        }

        if (modified)
        {
            text.Transform(transformations);
        }
    }

    /// <summary>Hugging Face's way to align a replacement of <paramref name="oldCount"/> code points: one change 0 per
    /// new code point; extra new ones are insertions (1); fewer new ones make the last change negative.</summary>
    internal static void Replace(List<(int CodePoint, int Change)> transformations, int oldCount, IReadOnlyList<int> replacement)
    {
        foreach (int c in replacement)
        {
            transformations.Add((c, 0));
        }

        int diff = replacement.Count - oldCount;
        if (diff > 0)
        {
            for (int k = transformations.Count - diff; k < transformations.Count; k++)
            {
                transformations[k] = (transformations[k].CodePoint, 1);
            }
        }
        else if (diff < 0 && transformations.Count > 0)
        {
            transformations[^1] = (transformations[^1].CodePoint, transformations[^1].Change + diff);
        }
    }

    private int MatchAt(AlignedText text, int i)
    {
        if (_repeatedCodePoint >= 0)
        {
            int run = 0;
            while (i + run < text.Count && text[i + run].CodePoint == _repeatedCodePoint)
            {
                run++;
            }

            return run >= _minimumRepeats ? run : 0;
        }

        if (_literal.Length == 0 || i + _literal.Length > text.Count)
        {
            return 0;
        }

        for (int k = 0; k < _literal.Length; k++)
        {
            if (text[i + k].CodePoint != _literal[k])
            {
                return 0;
            }
        }

        return _literal.Length;
    }

    private static int[] CodePoints(string s) => s.EnumerateRunes().Select(r => r.Value).ToArray();
}
