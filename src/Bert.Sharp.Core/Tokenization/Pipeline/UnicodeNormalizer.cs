using Bert.Sharp.Tokenization.Unicode;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// The Unicode normalizers of a <c>tokenizer.json</c> — <c>NFD</c>, <c>NFC</c> (GPT-NeoX-derived byte-level BPE vocabularies
/// declare it), <c>NFKD</c> and <c>NFKC</c> — computed from this library's own Unicode tables, never the platform's: the
/// result is the same with ICU, without it (<c>InvariantGlobalization</c>) and in any culture. They reproduce the Rust
/// library's <c>NormalizedString::nfd</c> / <c>nfc</c> / <c>nfkd</c> / <c>nfkc</c>, which run unicode-normalization-alignments
/// 0.1.12 (Unicode 9.0): canonical or compatibility decomposition with each combining run stably ordered by combining
/// class, then (NFC, NFKC) its recomposition state machine, each output code point carrying the alignment change the
/// library gives it, so offsets point where the library's point.
/// </summary>
internal sealed class UnicodeNormalizer : ITextNormalizer
{
    private readonly bool compatibility;
    private readonly bool compose;

    private UnicodeNormalizer(bool compatibility, bool compose)
    {
        this.compatibility = compatibility;
        this.compose = compose;
    }

    /// <summary>Canonical decomposition (<c>NFD</c>).</summary>
    public static UnicodeNormalizer Nfd { get; } = new(compatibility: false, compose: false);

    /// <summary>Canonical decomposition, then composition (<c>NFC</c>).</summary>
    public static UnicodeNormalizer Nfc { get; } = new(compatibility: false, compose: true);

    /// <summary>Compatibility decomposition (<c>NFKD</c>).</summary>
    public static UnicodeNormalizer Nfkd { get; } = new(compatibility: true, compose: false);

    /// <summary>Compatibility decomposition, then canonical composition (<c>NFKC</c>).</summary>
    public static UnicodeNormalizer Nfkc { get; } = new(compatibility: true, compose: true);

    /// <inheritdoc />
    public void Normalize(AlignedText text)
    {
        ArgumentNullException.ThrowIfNull(text);
        List<(int CodePoint, int Change)> decomposed = Decompose(text, compatibility);
        text.Transform(compose ? Recompose(decomposed) : decomposed);
    }

    // Decomposition: each code point's full (canonical or compatibility) decomposition (the first piece keeps change 0, the others are
    // insertions, change 1), every run before a starter stably sorted by combining class.
    private static List<(int CodePoint, int Change)> Decompose(AlignedText text, bool compatibility)
    {
        var pieces = new List<(int Class, int CodePoint, int Change)>(text.Count);
        int pending = 0;
        foreach (AlignedChar c in text.Chars)
        {
            bool first = true;
            foreach (int piece in DecompositionOf(c.CodePoint, compatibility))
            {
                int combiningClass = UnicodeCharacterData.CombiningClass(piece);
                if (combiningClass == 0)
                {
                    SortByClass(pieces, pending);
                    pending = pieces.Count;
                }

                pieces.Add((combiningClass, piece, first ? 0 : 1));
                first = false;
            }
        }

        SortByClass(pieces, pending);
        return [.. pieces.Select(p => (p.CodePoint, p.Change))];
    }

    private static List<int> DecompositionOf(int codePoint, bool compatibility)
    {
        if (HangulSyllables.IsSyllable(codePoint))
        {
            Span<int> jamo = stackalloc int[3];
            return [.. jamo[..HangulSyllables.Decompose(codePoint, jamo)]];
        }

        ReadOnlySpan<char> mapping = compatibility ? UnicodeCharacterData.CompatibilityDecomposition(codePoint) : UnicodeCharacterData.Decomposition(codePoint);
        if (mapping.IsEmpty)
        {
            return [codePoint];
        }

        var result = new List<int>(mapping.Length);
        for (int i = 0; i < mapping.Length; i++)
        {
            bool pair = char.IsHighSurrogate(mapping[i]) && i + 1 < mapping.Length && char.IsLowSurrogate(mapping[i + 1]);
            result.Add(pair ? char.ConvertToUtf32(mapping[i], mapping[++i]) : mapping[i]);
        }

        return result;
    }

    // A stable sort of pieces[start..] by combining class (List.Sort is not stable).
    private static void SortByClass(List<(int Class, int CodePoint, int Change)> pieces, int start)
    {
        if (pieces.Count - start < 2)
        {
            return;
        }

        (int Class, int CodePoint, int Change)[] run = [.. pieces.Skip(start).OrderBy(p => p.Class)];
        for (int i = 0; i < run.Length; i++)
        {
            pieces[start + i] = run[i];
        }
    }

    // The recomposition of the library's Recompositions iterator, run to the end: a starter waits as the composee; a later
    // character composes with it unless blocked (a character of the same or a lower class came between), and a composed
    // pair's change is the sum of both less one (one original code point consumed). Blocked marks wait until the next
    // starter (then come after the composee) or the end (the composee first, then them).
    private static List<(int CodePoint, int Change)> Recompose(List<(int CodePoint, int Change)> decomposed)
    {
        var output = new List<(int CodePoint, int Change)>(decomposed.Count);
        var blocked = new List<(int CodePoint, int Change)>();
        (int CodePoint, int Change)? composee = null;
        int? lastClass = null;
        foreach ((int codePoint, int change) in decomposed)
        {
            int combiningClass = UnicodeCharacterData.CombiningClass(codePoint);
            if (composee is not { } k)
            {
                if (combiningClass != 0)
                {
                    output.Add((codePoint, change));
                }
                else
                {
                    composee = (codePoint, change);
                }

                continue;
            }

            if (lastClass is int last && last >= combiningClass)
            {
                if (combiningClass == 0)
                {
                    output.Add(k);
                    output.AddRange(blocked);
                    blocked.Clear();
                    composee = (codePoint, change);
                    lastClass = null;
                }
                else
                {
                    blocked.Add((codePoint, change));
                    lastClass = combiningClass;
                }

                continue;
            }

            int composed = UnicodeCharacterData.Compose(k.CodePoint, codePoint);
            if (composed >= 0)
            {
                composee = (composed, k.Change + change - 1);
            }
            else if (lastClass is null && combiningClass == 0)
            {
                output.Add(k);
                composee = (codePoint, change);
            }
            else
            {
                blocked.Add((codePoint, change));
                lastClass = combiningClass;
            }
        }

        if (composee is { } remaining)
        {
            output.Add(remaining);
        }

        output.AddRange(blocked);
        return output;
    }
}
