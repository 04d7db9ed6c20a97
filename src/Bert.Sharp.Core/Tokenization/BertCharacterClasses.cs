using Bert.Sharp.Tokenization.Unicode;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// The character classes of Hugging Face's BERT normalizer and pre-tokenizer (the Rust <c>tokenizers</c> crate).
/// </summary>
/// <remarks>
/// The classes come from the Unicode data the library carries (<see cref="UnicodeCharacterData"/>), with the Unicode
/// versions Hugging Face's tables have: categories as of Unicode 8.0, white space as Rust's <c>char::is_whitespace</c>.
/// Nothing depends on the platform (ICU, culture, the runtime's Unicode version). <c>CharacterClassConformanceTests</c>
/// and the invariant-globalization tests check every code point against the Hugging Face tokenizer itself.
/// </remarks>
internal static class BertCharacterClasses
{
    private const byte AsciiRemoved = 1;
    private const byte AsciiWhitespace = 2;
    private const byte AsciiPunctuation = 3;

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
                table[c] = (byte)(lowercase && char.IsAsciiLetterUpper(c) ? c | 0x20 : c);
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
    public static bool IsRemoved(int codePoint) => HasClass(codePoint, AsciiRemoved, UnicodeClassFlags.Removed);

    /// <summary>True for tab, newline, carriage return and every Unicode <c>White_Space</c> character.</summary>
    public static bool IsWhitespace(int codePoint) => HasClass(codePoint, AsciiWhitespace, UnicodeClassFlags.Whitespace);

    /// <summary>True for ASCII symbols and Unicode punctuation (categories P*, as of Unicode 8.0).</summary>
    public static bool IsPunctuation(int codePoint) => HasClass(codePoint, AsciiPunctuation, UnicodeClassFlags.Punctuation);

    /// <summary>True for non-spacing marks (category Mn, as of Unicode 8.0): what accent stripping removes.</summary>
    public static bool IsNonspacingMark(int codePoint)
    {
        if (codePoint < 0x300)
        {
            return false;
        }

        return (UnicodeCharacterData.ClassOf(codePoint) & UnicodeClassFlags.NonspacingMark) != 0;
    }

    /// <summary>True for the CJK ideograph blocks BERT isolates as single words (Hugging Face's ranges).</summary>
    public static bool IsChineseCharacter(int codePoint) =>
        codePoint is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF)
            or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B920 and <= 0x2CEAF)
            or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);

    /// <summary>Fast class of an ASCII character: 0 word character, 1 removed, 2 whitespace, 3 punctuation.</summary>
    public static byte AsciiClass(char c) => Ascii[c];

    // An ASCII character's class from the table, any other's from the Unicode data.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static bool HasClass(int codePoint, byte asciiClass, UnicodeClassFlags flag) =>
        codePoint < 128 ? Ascii[codePoint] == asciiClass : (UnicodeCharacterData.ClassOf(codePoint) & flag) != 0;
}
