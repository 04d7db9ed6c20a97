namespace Bert.Sharp.Inference;

/// <summary>
/// One text as token classification serves it: the encoded row, and for each token its piece, its UTF-16 range in the text,
/// whether it is a special token and whether it continues a word (Hugging Face's pipeline rule for the tokenizer's kind).
/// </summary>
internal sealed record TokenizedRow(EncodedText Encoded, string[] Pieces, TokenOffset[] Offsets, bool[] Special, bool[] Subword);
