namespace Bert.Sharp.Tokenization.Unicode;

/// <summary>
/// Unicode's algorithmic decomposition and composition of precomposed Hangul syllables (Unicode 9.0, section 3.12,
/// "Conjoining Jamo Behavior"): a syllable is a leading consonant, a vowel and optionally a trailing consonant, all starters.
/// </summary>
internal static class HangulSyllables
{
    private const int SyllableBase = 0xAC00, LeadingBase = 0x1100, VowelBase = 0x1161, TrailingBase = 0x11A7;
    private const int LeadingCount = 19, VowelCount = 21, TrailingCount = 28, SyllableCount = LeadingCount * VowelCount * TrailingCount;

    /// <summary>Whether <paramref name="codePoint"/> is a precomposed syllable (U+AC00..U+D7A3).</summary>
    public static bool IsSyllable(int codePoint) => codePoint is >= SyllableBase and < SyllableBase + SyllableCount;

    /// <summary>Writes the jamo of syllable <paramref name="codePoint"/> (2 or 3, each one UTF-16 unit) and returns how many.</summary>
    public static int Decompose(int codePoint, Span<int> jamo)
    {
        int index = codePoint - SyllableBase;
        int trailing = index % TrailingCount;
        jamo[0] = LeadingBase + (index / (VowelCount * TrailingCount));
        jamo[1] = VowelBase + (index % (VowelCount * TrailingCount) / TrailingCount);
        if (trailing == 0)
        {
            return 2;
        }

        jamo[2] = TrailingBase + trailing;
        return 3;
    }

    /// <summary>The syllable a leading consonant and a vowel, or a two-jamo syllable and a trailing consonant, compose to; <c>-1</c> otherwise.</summary>
    public static int Compose(int first, int second)
    {
        if (first is >= LeadingBase and < LeadingBase + LeadingCount && second is >= VowelBase and < VowelBase + VowelCount)
        {
            return SyllableBase + ((((first - LeadingBase) * VowelCount) + (second - VowelBase)) * TrailingCount);
        }

        return IsSyllable(first) && (first - SyllableBase) % TrailingCount == 0 && second is > TrailingBase and < TrailingBase + TrailingCount
            ? first + (second - TrailingBase)
            : -1;
    }
}
