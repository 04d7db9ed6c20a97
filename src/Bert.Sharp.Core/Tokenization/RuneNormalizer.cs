using System.Text;
using Bert.Sharp.Tokenization.Unicode;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// Per-character normalization of Hugging Face's BERT normalizer: canonical decomposition with non-spacing marks
/// removed (accent stripping), then full lower-casing. Characters are handled one at a time so every output
/// character keeps the position of the input character it came from (for offsets); the canonical reordering of
/// combining marks across characters is done by <see cref="WordBuffer.AppendCombining"/>.
/// </summary>
/// <remarks>Decomposition, categories and case mappings come from the Unicode data the library carries
/// (<see cref="UnicodeCharacterData"/>), never from the platform: <c>string.Normalize</c> does nothing without ICU
/// and culture-aware casing differs by culture.</remarks>
internal static class RuneNormalizer
{
    /// <summary>The longest output of <see cref="Normalize(int, bool, bool, Span{char})"/> for one input character.</summary>
    public const int MaxOutputChars = 32;

    /// <summary>Writes the normalized form of <paramref name="codePoint"/> to <paramref name="destination"/>
    /// (at least <see cref="MaxOutputChars"/> long) and returns the number of chars written (0 when it vanishes).</summary>
    public static int Normalize(int codePoint, bool stripAccents, bool lowercase, Span<char> destination) =>
        Normalize(codePoint, stripAccents, lowercase, destination, out _);

    /// <summary>
    /// As <see cref="Normalize(int, bool, bool, Span{char})"/>; <paramref name="runBreak"/> is the index in the output
    /// of the first starter (canonical combining class 0, kept or stripped) of the decomposition, or -1 when it has
    /// none. Output before it continues the previous character's run of combining marks (canonical reordering).
    /// </summary>
    public static int Normalize(int codePoint, bool stripAccents, bool lowercase, Span<char> destination, out int runBreak)
    {
        if (!stripAccents)
        {
            runBreak = 0;
            return lowercase ? Lower(codePoint, destination) : new Rune(codePoint).EncodeToUtf16(destination);
        }

        if (HangulSyllables.IsSyllable(codePoint))
        {
            runBreak = 0;
            return DecomposeHangul(codePoint, destination);
        }

        ReadOnlySpan<char> decomposition = codePoint < 0xC0 ? default : UnicodeCharacterData.Decomposition(codePoint);
        if (decomposition.IsEmpty)
        {
            runBreak = codePoint < 0x300 || UnicodeCharacterData.CombiningClass(codePoint) == 0 ? 0 : -1;
            if (BertCharacterClasses.IsNonspacingMark(codePoint))
            {
                return 0;
            }

            return lowercase ? Lower(codePoint, destination) : new Rune(codePoint).EncodeToUtf16(destination);
        }

        runBreak = -1;
        int written = 0;
        int i = 0;
        while (i < decomposition.Length)
        {
            Rune.DecodeFromUtf16(decomposition[i..], out Rune part, out int width);
            i += width;
            if (runBreak < 0 && UnicodeCharacterData.CombiningClass(part.Value) == 0)
            {
                runBreak = written;
            }

            if (BertCharacterClasses.IsNonspacingMark(part.Value))
            {
                continue;
            }

            written += lowercase ? Lower(part.Value, destination[written..]) : part.EncodeToUtf16(destination[written..]);
        }

        return written;
    }

    /// <summary>The canonical combining class of a normalized character (0 for starters).</summary>
    public static int CombiningClass(int codePoint) => codePoint < 0x300 ? 0 : UnicodeCharacterData.CombiningClass(codePoint);

    private static int Lower(int codePoint, Span<char> destination)
    {
        if (codePoint < 128)
        {
            destination[0] = (char)(codePoint is >= 'A' and <= 'Z' ? codePoint | 0x20 : codePoint);
            return 1;
        }

        ReadOnlySpan<char> lower = UnicodeCharacterData.LowercaseOf(codePoint);
        if (lower.IsEmpty)
        {
            return new Rune(codePoint).EncodeToUtf16(destination);
        }

        lower.CopyTo(destination);
        return lower.Length;
    }

    private static int DecomposeHangul(int codePoint, Span<char> destination)
    {
        // Unicode's algorithmic decomposition into conjoining jamo (all starters, none a mark, none with a lower case).
        Span<int> jamo = stackalloc int[3];
        int count = HangulSyllables.Decompose(codePoint, jamo);
        for (int i = 0; i < count; i++)
        {
            destination[i] = (char)jamo[i];
        }

        return count;
    }
}
