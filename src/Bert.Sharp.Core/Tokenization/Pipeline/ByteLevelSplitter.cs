using System.Globalization;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// The GPT-2 split of Hugging Face's <c>ByteLevel</c> pre-tokenizer, written per code point instead of as a regex
/// (.NET's regex sees UTF-16 units, Oniguruma code points):
/// <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>.
/// Letter and number categories come from .NET's own Unicode tables (no ICU).
/// </summary>
internal static class ByteLevelSplitter
{
    /// <summary>The pieces of <paramref name="text"/> as code point ranges, in order, covering it.</summary>
    public static List<(int Start, int End)> Split(AlignedText text)
    {
        var pieces = new List<(int, int)>();
        int n = text.Count;
        int i = 0;
        while (i < n)
        {
            int end = Match(text, i, n);
            pieces.Add((i, end));
            i = end;
        }

        return pieces;
    }

    private static int Match(AlignedText t, int i, int n)
    {
        int c = t[i].CodePoint;
        if (c == '\'' && i + 1 < n)
        {
            int c1 = t[i + 1].CodePoint;
            if (c1 is 's' or 't' or 'm' or 'd')
            {
                return i + 2;
            }

            if (i + 2 < n)
            {
                int c2 = t[i + 2].CodePoint;
                if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l'))
                {
                    return i + 3;
                }
            }
        }

        int j = c == ' ' && i + 1 < n ? i + 1 : i;
        Kind kind = KindOf(t[j].CodePoint);
        if (kind != Kind.Space)
        {
            int k = j + 1;
            while (k < n && KindOf(t[k].CodePoint) == kind)
            {
                k++;
            }

            return k;
        }

        // White space run from i (the character at i is white space here).
        int run = i;
        while (run < n && WhiteSpace.Is(t[run].CodePoint))
        {
            run++;
        }

        if (run == n)
        {
            return n;
        }

        // \s+(?!\S): give back the last space before a non-space; if that leaves nothing, \s+ takes the run.
        return run - 1 > i ? run - 1 : run;
    }

    private enum Kind
    {
        Space,
        Letter,
        Number,
        Other,
    }

    private static Kind KindOf(int codePoint)
    {
        if (WhiteSpace.Is(codePoint))
        {
            return Kind.Space;
        }

        return CharUnicodeInfo.GetUnicodeCategory(codePoint) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Kind.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Kind.Number,
            _ => Kind.Other,
        };
    }
}
