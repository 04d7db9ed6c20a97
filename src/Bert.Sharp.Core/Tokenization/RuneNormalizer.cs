using System.Collections.Concurrent;
using System.Text;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// Per-character normalization of Hugging Face's BERT normalizer: canonical decomposition with non-spacing marks
/// removed (accent stripping), then full lower-casing. Characters are handled one at a time so every output
/// character keeps the position of the input character it came from (for offsets).
/// </summary>
internal static class RuneNormalizer
{
    /// <summary>The longest output of <see cref="Normalize"/> for one input character.</summary>
    public const int MaxOutputChars = 32;

    private static readonly Lazy<string?[]> BmpDecompositions = new(BuildBmpDecompositions, LazyThreadSafetyMode.PublicationOnly);
    private static readonly ConcurrentDictionary<int, string?> SupplementaryDecompositions = new();

    /// <summary>Writes the normalized form of <paramref name="codePoint"/> to <paramref name="destination"/>
    /// (at least <see cref="MaxOutputChars"/> long) and returns the number of chars written (0 when it vanishes).</summary>
    public static int Normalize(int codePoint, bool stripAccents, bool lowercase, Span<char> destination)
    {
        if (!stripAccents)
        {
            return lowercase ? Lower(codePoint, destination) : new Rune(codePoint).EncodeToUtf16(destination);
        }

        string? decomposition = Decompose(codePoint);
        if (decomposition is null)
        {
            if (BertCharacterClasses.IsNonspacingMark(codePoint))
            {
                return 0;
            }

            return lowercase ? Lower(codePoint, destination) : new Rune(codePoint).EncodeToUtf16(destination);
        }

        int written = 0;
        foreach (Rune part in decomposition.EnumerateRunes())
        {
            if (BertCharacterClasses.IsNonspacingMark(part.Value))
            {
                continue;
            }

            written += lowercase ? Lower(part.Value, destination[written..]) : part.EncodeToUtf16(destination[written..]);
        }

        return written;
    }

    private static int Lower(int codePoint, Span<char> destination)
    {
        if (codePoint == 0x130)
        {
            // Full lower-casing (as Rust's char::to_lowercase): capital I with dot above becomes i + combining dot.
            destination[0] = 'i';
            destination[1] = '\u0307';
            return 2;
        }

        return Rune.ToLowerInvariant(new Rune(codePoint)).EncodeToUtf16(destination);
    }

    /// <summary>The canonical decomposition (NFD) of the character, or null when it has none.</summary>
    private static string? Decompose(int codePoint)
    {
        if (codePoint < 0xC0)
        {
            return null;
        }

        if (codePoint < 0x10000)
        {
            return BmpDecompositions.Value[codePoint];
        }

        return SupplementaryDecompositions.GetOrAdd(codePoint, static cp => ComputeDecomposition(cp));
    }

    private static string?[] BuildBmpDecompositions()
    {
        var table = new string?[0x10000];
        for (int c = 0xC0; c < 0x10000; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF)
            {
                continue;
            }

            table[c] = ComputeDecomposition(c);
        }

        return table;
    }

    private static string? ComputeDecomposition(int codePoint)
    {
        string text = char.ConvertFromUtf32(codePoint);
        try
        {
            if (text.IsNormalized(NormalizationForm.FormD))
            {
                return null;
            }

            string decomposed = text.Normalize(NormalizationForm.FormD);
            return decomposed == text ? null : decomposed;
        }
        catch (ArgumentException)
        {
            // Non-characters such as U+FFFE make ICU refuse the string; they have no decomposition.
            return null;
        }
    }
}
