namespace Bert.Sharp.Tokenization.Unicode;

/// <summary>The character classes of Hugging Face's BERT normalizer and pre-tokenizer, as the generated tables
/// store them (tools/UnicodeTables writes the same bits).</summary>
[Flags]
internal enum UnicodeClassFlags : byte
{
    /// <summary>None of the classes: part of a word.</summary>
    None = 0,

    /// <summary>Dropped by clean-up: NUL, U+FFFD and control, format, private-use characters (categories Cc, Cf, Co
    /// and Cs as of Unicode 8.0) other than tab, newline and carriage return.</summary>
    Removed = 1,

    /// <summary>Tab, newline, carriage return and every <c>White_Space</c> character.</summary>
    Whitespace = 2,

    /// <summary>ASCII symbols and punctuation, and Unicode punctuation (categories P*, as of Unicode 8.0).</summary>
    Punctuation = 4,

    /// <summary>Non-spacing marks (category Mn, as of Unicode 8.0): what accent stripping removes.</summary>
    NonspacingMark = 8,
}
