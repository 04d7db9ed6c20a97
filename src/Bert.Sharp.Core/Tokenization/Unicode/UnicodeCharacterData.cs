namespace Bert.Sharp.Tokenization.Unicode;

/// <summary>
/// The Unicode data the BERT normalizer and pre-tokenizer use, carried by the library (generated into
/// <c>UnicodeTables.txt</c> by tools/UnicodeTables, read by <see cref="UnicodeTables"/>) so that tokenization never
/// depends on the platform's Unicode support: the same ids with ICU, without it (<c>InvariantGlobalization</c>) and in
/// any culture.
/// </summary>
internal static class UnicodeCharacterData
{
    // Declared first: the fields below are built from it.
    private static readonly UnicodeTables Tables = UnicodeTables.ReadEmbedded();
    private static readonly CodePointTable<byte> Classes = FromRuns(Tables.ClassRuns);
    private static readonly CodePointTable<byte> CombiningClasses = FromRuns(Tables.CombiningClassRuns);
    private static readonly CodePointMapping Decompositions = Tables.Decompositions;
    private static readonly CodePointMapping Compatibility = Tables.CompatibilityDecompositions;
    private static readonly CodePointMapping Lowercase = Tables.LowercaseMappings;

    /// <summary>The version of the Unicode Character Database the tables were generated from.</summary>
    public static string UnicodeVersion => Tables.Version;

    /// <summary>The BERT character classes of <paramref name="codePoint"/>.</summary>
    public static UnicodeClassFlags ClassOf(int codePoint) => (UnicodeClassFlags)Classes[codePoint];

    /// <summary>The canonical combining class (0 for starters) as Hugging Face's NFD knows it (Unicode 9.0).</summary>
    public static int CombiningClass(int codePoint) => CombiningClasses[codePoint];

    /// <summary>The full canonical decomposition (NFD, Unicode 9.0) of a character other than a Hangul syllable,
    /// canonically ordered; empty when the character has none.</summary>
    public static ReadOnlySpan<char> Decomposition(int codePoint) => Decompositions[codePoint];

    /// <summary>
    /// The canonical composition of <paramref name="first"/> and <paramref name="second"/> (NFC's pairs, Unicode 9.0, as
    /// unicode-normalization-alignments 0.1.12 composes: Hangul by the algorithm, the rest from the table); <c>-1</c> when
    /// they do not compose.
    /// </summary>
    public static int Compose(int first, int second)
    {
        int hangul = HangulSyllables.Compose(first, second);
        if (hangul >= 0)
        {
            return hangul;
        }

        int index = Array.BinarySearch(Tables.CompositionPairs, ((long)first << 21) | (uint)second);
        return index >= 0 ? Tables.CompositionResults[index] : -1;
    }

    /// <summary>The full compatibility decomposition (NFKD, Unicode 9.0) of a character other than a Hangul syllable,
    /// canonically ordered; empty when the character has none.</summary>
    public static ReadOnlySpan<char> CompatibilityDecomposition(int codePoint)
    {
        ReadOnlySpan<char> compatibility = Compatibility[codePoint];
        return compatibility.IsEmpty ? Decompositions[codePoint] : compatibility;
    }

    /// <summary>The full lower-case mapping (as Rust's <c>char::to_lowercase</c>: 'İ' gives "i̇"); empty when the
    /// character is its own lower case.</summary>
    public static ReadOnlySpan<char> LowercaseOf(int codePoint) => Lowercase[codePoint];

    private static CodePointTable<byte> FromRuns(uint[] runs)
    {
        return CodePointTable<byte>.Build((first, block) =>
        {
            // The run holding the block's first code point, then each run that starts inside the block.
            int r = Array.BinarySearch(runs, ((uint)first << 8) | 0xFF);
            r = r < 0 ? ~r - 1 : r;
            int cp = first;
            int end = first + block.Length;
            while (cp < end)
            {
                int next = r + 1 < runs.Length ? (int)(runs[r + 1] >> 8) : int.MaxValue;
                byte value = (byte)runs[r];
                int stop = Math.Min(next, end);
                block[(cp - first)..(stop - first)].Fill(value);
                cp = stop;
                r++;
            }
        });
    }
}
