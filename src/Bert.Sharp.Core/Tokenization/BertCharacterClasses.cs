using System.Globalization;
using System.Text;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// The character classes of Hugging Face's BERT normalizer and pre-tokenizer (the Rust <c>tokenizers</c> crate).
/// </summary>
/// <remarks>
/// Hugging Face classifies "control", "punctuation" and "non-spacing mark" with Unicode 8.0 category tables, while
/// .NET ships current ones. The exception lists below are the code points on which the two disagree (characters
/// assigned or re-categorised after Unicode 8.0). They were measured against the Hugging Face tokenizer itself and
/// are re-checked for every code point by <c>CharacterClassConformanceTests</c>.
/// Whitespace and case mapping follow the current tables on both sides.
/// </remarks>
internal static class BertCharacterClasses
{
    private const byte AsciiRemoved = 1;
    private const byte AsciiWhitespace = 2;
    private const byte AsciiPunctuation = 3;

    // Format (Cf) characters .NET knows but Unicode 8.0 did not assign: Hugging Face keeps them.
    private static readonly int[] FormatNotRemoved =
    [
        0x0890, 0x0891,
        0x08E2, 0x08E2,
        0x110CD, 0x110CD,
        0x13430, 0x1343F
    ];

    // Punctuation characters .NET knows but Hugging Face's tables do not (added after Unicode 8.0).
    private static readonly int[] PunctuationNotSplit =
    [
        0x061D, 0x061D,
        0x09FD, 0x09FD,
        0x0A76, 0x0A76,
        0x0C77, 0x0C77,
        0x0C84, 0x0C84,
        0x1B4E, 0x1B4F,
        0x1B7D, 0x1B7F,
        0x2E43, 0x2E4F,
        0x2E52, 0x2E5D,
        0x10D6E, 0x10D6E,
        0x10EAD, 0x10EAD,
        0x10F55, 0x10F59,
        0x10F86, 0x10F89,
        0x113D4, 0x113D5,
        0x113D7, 0x113D8,
        0x1144B, 0x1144F,
        0x1145A, 0x1145B,
        0x1145D, 0x1145D,
        0x11660, 0x1166C,
        0x116B9, 0x116B9,
        0x1183B, 0x1183B,
        0x11944, 0x11946,
        0x119E2, 0x119E2,
        0x11A3F, 0x11A46,
        0x11A9A, 0x11A9C,
        0x11A9E, 0x11AA2,
        0x11B00, 0x11B09,
        0x11BE1, 0x11BE1,
        0x11C41, 0x11C45,
        0x11C70, 0x11C71,
        0x11EF7, 0x11EF8,
        0x11F43, 0x11F4F,
        0x11FFF, 0x11FFF,
        0x12FF1, 0x12FF2,
        0x16D6D, 0x16D6F,
        0x16E97, 0x16E9A,
        0x16FE2, 0x16FE2,
        0x1E5FF, 0x1E5FF,
        0x1E95E, 0x1E95F
    ];

    // Characters that were punctuation in Unicode 8.0 and are letters or marks now.
    private static readonly int[] PunctuationFormerly =
    [
        0x166D, 0x166D,
        0x111C9, 0x111C9
    ];

    // Non-spacing marks (Mn) .NET knows but Hugging Face's tables do not: accent stripping keeps them.
    private static readonly int[] MarkNotStripped =
    [
        0x07FD, 0x07FD,
        0x0897, 0x089F,
        0x08CA, 0x08E1,
        0x09FE, 0x09FE,
        0x0AFA, 0x0AFF,
        0x0B55, 0x0B55,
        0x0C04, 0x0C04,
        0x0C3C, 0x0C3C,
        0x0D00, 0x0D00,
        0x0D3B, 0x0D3C,
        0x0D81, 0x0D81,
        0x0EBA, 0x0EBA,
        0x0ECE, 0x0ECE,
        0x180F, 0x180F,
        0x1885, 0x1886,
        0x1ABF, 0x1ACE,
        0x1DF6, 0x1DFB,
        0xA82C, 0xA82C,
        0xA8C5, 0xA8C5,
        0xA8FF, 0xA8FF,
        0xA9BD, 0xA9BD,
        0x10D24, 0x10D27,
        0x10D69, 0x10D6D,
        0x10EAB, 0x10EAC,
        0x10EFC, 0x10EFF,
        0x10F46, 0x10F50,
        0x10F82, 0x10F85,
        0x11070, 0x11070,
        0x11073, 0x11074,
        0x110C2, 0x110C2,
        0x111C9, 0x111C9,
        0x111CF, 0x111CF,
        0x1123E, 0x1123E,
        0x11241, 0x11241,
        0x1133B, 0x1133B,
        0x113BB, 0x113C0,
        0x113CE, 0x113CE,
        0x113D0, 0x113D0,
        0x113D2, 0x113D2,
        0x113E1, 0x113E2,
        0x11438, 0x1143F,
        0x11442, 0x11444,
        0x11446, 0x11446,
        0x1145E, 0x1145E,
        0x1182F, 0x11837,
        0x11839, 0x1183A,
        0x1193B, 0x1193C,
        0x1193E, 0x1193E,
        0x11943, 0x11943,
        0x119D4, 0x119D7,
        0x119DA, 0x119DB,
        0x119E0, 0x119E0,
        0x11A01, 0x11A0A,
        0x11A33, 0x11A38,
        0x11A3B, 0x11A3E,
        0x11A47, 0x11A47,
        0x11A51, 0x11A56,
        0x11A59, 0x11A5B,
        0x11A8A, 0x11A96,
        0x11A98, 0x11A99,
        0x11C30, 0x11C36,
        0x11C38, 0x11C3D,
        0x11C3F, 0x11C3F,
        0x11C92, 0x11CA7,
        0x11CAA, 0x11CB0,
        0x11CB2, 0x11CB3,
        0x11CB5, 0x11CB6,
        0x11D31, 0x11D36,
        0x11D3A, 0x11D3A,
        0x11D3C, 0x11D3D,
        0x11D3F, 0x11D45,
        0x11D47, 0x11D47,
        0x11D90, 0x11D91,
        0x11D95, 0x11D95,
        0x11D97, 0x11D97,
        0x11EF3, 0x11EF4,
        0x11F00, 0x11F01,
        0x11F36, 0x11F3A,
        0x11F40, 0x11F40,
        0x11F42, 0x11F42,
        0x11F5A, 0x11F5A,
        0x13440, 0x13440,
        0x13447, 0x13455,
        0x1611E, 0x16129,
        0x1612D, 0x1612F,
        0x16F4F, 0x16F4F,
        0x16FE4, 0x16FE4,
        0x1CF00, 0x1CF2D,
        0x1CF30, 0x1CF46,
        0x1E000, 0x1E006,
        0x1E008, 0x1E018,
        0x1E01B, 0x1E021,
        0x1E023, 0x1E024,
        0x1E026, 0x1E02A,
        0x1E08F, 0x1E08F,
        0x1E130, 0x1E136,
        0x1E2AE, 0x1E2AE,
        0x1E2EC, 0x1E2EF,
        0x1E4EC, 0x1E4EF,
        0x1E5EE, 0x1E5EF,
        0x1E944, 0x1E94A
    ];

    // Characters that were non-spacing marks in Unicode 8.0 and are spacing marks now: accent stripping drops them.
    private static readonly int[] MarkFormerly =
    [
        0x1734, 0x1734,
        0x1171E, 0x1171E
    ];

    private static readonly byte[] Ascii = BuildAsciiTable();
    private static readonly byte[] AsciiWord = BuildAsciiWordTable(lowercase: false);
    private static readonly byte[] AsciiWordLower = BuildAsciiWordTable(lowercase: true);

    private static byte[] BuildAsciiTable()
    {
        var table = new byte[128];
        for (int c = 0; c < 128; c++)
        {
            if (c is '\t' or '\n' or '\r' or ' ')
            {
                table[c] = AsciiWhitespace;
            }
            else if (c < 0x20 || c == 0x7F)
            {
                table[c] = AsciiRemoved;
            }
            else if (!char.IsAsciiLetterOrDigit((char)c))
            {
                table[c] = AsciiPunctuation; // BERT counts every ASCII symbol (+ < > # $ ^ `) as punctuation.
            }
        }

        return table;
    }

    private static byte[] BuildAsciiWordTable(bool lowercase)
    {
        var table = new byte[128];
        for (char c = '\0'; c < 128; c++)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                table[c] = (byte)(lowercase ? char.ToLowerInvariant(c) : c);
            }
        }

        return table;
    }

    /// <summary>
    /// For each ASCII char, the char a word holds for it (lower-cased when <paramref name="lowercase"/>), or 0 when
    /// it is not a word character (class 0 of <see cref="AsciiClass"/>). One lookup both classifies and case-maps,
    /// which is the inner loop for ASCII text. 128 entries: index only after checking <c>c &lt; table.Length</c>.
    /// </summary>
    public static byte[] AsciiWordChars(bool lowercase) => lowercase ? AsciiWordLower : AsciiWord;

    /// <summary>True when clean-up drops the character: NUL, U+FFFD and control/format/private-use characters
    /// other than tab, newline and carriage return.</summary>
    public static bool IsRemoved(int codePoint)
    {
        if (codePoint < 128)
        {
            return Ascii[codePoint] == AsciiRemoved;
        }

        if (codePoint == 0xFFFD)
        {
            return true;
        }

        UnicodeCategory category = CharUnicodeInfo.GetUnicodeCategory(codePoint);
        return category switch
        {
            UnicodeCategory.Control or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate => true,
            UnicodeCategory.Format => !InRanges(FormatNotRemoved, codePoint),
            _ => false,
        };
    }

    /// <summary>True for tab, newline, carriage return and every Unicode <c>White_Space</c> character.</summary>
    public static bool IsWhitespace(int codePoint)
    {
        if (codePoint < 128)
        {
            return Ascii[codePoint] == AsciiWhitespace;
        }

        return Rune.IsWhiteSpace(new Rune(codePoint));
    }

    /// <summary>True for ASCII symbols and Unicode punctuation (categories P*, as of Unicode 8.0).</summary>
    public static bool IsPunctuation(int codePoint)
    {
        if (codePoint < 128)
        {
            return Ascii[codePoint] == AsciiPunctuation;
        }

        UnicodeCategory category = CharUnicodeInfo.GetUnicodeCategory(codePoint);
        bool punctuation = category is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation
            or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation
            or UnicodeCategory.OtherPunctuation;
        return punctuation ? !InRanges(PunctuationNotSplit, codePoint) : InRanges(PunctuationFormerly, codePoint);
    }

    /// <summary>True for non-spacing marks (category Mn, as of Unicode 8.0): what accent stripping removes.</summary>
    public static bool IsNonspacingMark(int codePoint)
    {
        if (codePoint < 0x300)
        {
            return false;
        }

        return CharUnicodeInfo.GetUnicodeCategory(codePoint) == UnicodeCategory.NonSpacingMark
            ? !InRanges(MarkNotStripped, codePoint)
            : InRanges(MarkFormerly, codePoint);
    }

    /// <summary>True for the CJK ideograph blocks BERT isolates as single words (Hugging Face's ranges).</summary>
    public static bool IsChineseCharacter(int codePoint) =>
        codePoint is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF)
            or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B920 and <= 0x2CEAF)
            or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);

    /// <summary>Fast class of an ASCII character: 0 word character, 1 removed, 2 whitespace, 3 punctuation.</summary>
    public static byte AsciiClass(char c) => Ascii[c];

    private static bool InRanges(int[] ranges, int codePoint)
    {
        // Pairs of inclusive bounds, sorted: binary search on the pair index.
        int lo = 0;
        int hi = (ranges.Length / 2) - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (codePoint < ranges[2 * mid])
            {
                hi = mid - 1;
            }
            else if (codePoint > ranges[(2 * mid) + 1])
            {
                lo = mid + 1;
            }
            else
            {
                return true;
            }
        }

        return false;
    }
}
