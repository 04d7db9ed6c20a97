using Bert.Sharp.Tokenization.Unicode;

namespace Bert.Sharp.Tokenization;

/// <summary>
/// The <c>Lowercase</c> normalizer of a <c>tokenizer.json</c>: every code point replaced by its full lower-case mapping, as
/// Rust's <c>char::to_lowercase</c> gives it (unconditional mappings: 'İ' becomes "i̇", 'Σ' always 'σ'), from this library's
/// own tables, never the platform's culture. The first code point of a mapping keeps the original's alignment, the others
/// are insertions (<c>NormalizedString::lowercase</c>).
/// </summary>
internal sealed class LowercaseNormalizer : ITextNormalizer
{
    /// <summary>The shared instance (stateless).</summary>
    public static LowercaseNormalizer Instance { get; } = new();

    /// <inheritdoc />
    public void Normalize(AlignedText text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lowered = new List<(int CodePoint, int Change)>(text.Count);
        foreach (AlignedChar c in text.Chars)
        {
            ReadOnlySpan<char> mapping = UnicodeCharacterData.LowercaseOf(c.CodePoint);
            if (mapping.IsEmpty)
            {
                lowered.Add((c.CodePoint, 0));
                continue;
            }

            int change = 0;
            for (int i = 0; i < mapping.Length; i++)
            {
                bool pair = char.IsHighSurrogate(mapping[i]) && i + 1 < mapping.Length && char.IsLowSurrogate(mapping[i + 1]);
                lowered.Add((pair ? char.ConvertToUtf32(mapping[i], mapping[++i]) : mapping[i], change));
                change = 1;
            }
        }

        text.Transform(lowered);
    }
}
