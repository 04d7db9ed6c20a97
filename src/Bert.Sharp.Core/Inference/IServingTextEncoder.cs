namespace Bert.Sharp.Inference;

/// <summary>
/// The tokenization step of the serving classes: an <see cref="ITextEncoder"/> that also gives each token's piece, offsets
/// and word boundaries (token classification). <see cref="TokenizerTextEncoder"/> (WordPiece) and
/// <see cref="SubwordTextEncoder"/> (byte-level BPE, Unigram) are the two; <see cref="ServingTextEncoders"/> picks one from a folder.
/// </summary>
internal interface IServingTextEncoder : ITextEncoder
{
    /// <summary>Single texts, truncated to <paramref name="maxLength"/> tokens (special tokens included), unpadded.</summary>
    IReadOnlyList<TokenizedRow> Tokenize(IReadOnlyList<string> texts, int maxLength);
}
