namespace Bert.Sharp.Inference;

/// <summary>The <see cref="ITextEncoder"/> over a <see cref="BertTokenizer"/>: unpadded, longest-first truncation (Hugging Face's default).</summary>
internal sealed class TokenizerTextEncoder(BertTokenizer tokenizer) : IServingTextEncoder
{
    public BertTokenizer Tokenizer { get; } = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));

    public int PadTokenId => Tokenizer.PadTokenId;

    public int ModelMaxLength => Tokenizer.ModelMaxLength;

    public IReadOnlyList<EncodedText> Encode(IReadOnlyList<string> texts, IReadOnlyList<string>? pairs, int maxLength)
    {
        if (texts.Count == 0)
        {
            return [];
        }

        var options = new EncodingOptions { Padding = PaddingStrategy.None, Truncation = TruncationStrategy.LongestFirst, MaxLength = maxLength };
        BatchEncoding batch = pairs is null ? Tokenizer.EncodeBatch(texts, options) : Tokenizer.EncodeBatch(texts, pairs, options);
        return EncodedText.Rows(batch);
    }

    public WordEncoding EncodeWords(IReadOnlyList<string> words, int maxLength) => Tokenizer.EncodeWords(words, maxLength);

    public IReadOnlyList<TokenizedRow> Tokenize(IReadOnlyList<string> texts, int maxLength)
    {
        if (texts.Count == 0)
        {
            return [];
        }

        BatchEncoding encoded = Tokenizer.EncodeBatch(texts, new EncodingOptions { Padding = PaddingStrategy.None, Truncation = TruncationStrategy.LongestFirst, MaxLength = maxLength });
        EncodedText[] rows = EncodedText.Rows(encoded);
        var result = new TokenizedRow[rows.Length];
        for (int r = 0; r < rows.Length; r++)
        {
            int[] ids = encoded.InputIds[r];
            TokenOffset[] offsets = encoded.Offsets[r];
            int[] specialMask = encoded.SpecialTokensMask[r];
            var pieces = new string[ids.Length];
            var special = new bool[ids.Length];
            var subword = new bool[ids.Length];
            for (int t = 0; t < ids.Length; t++)
            {
                pieces[t] = Tokenizer.IdToToken(ids[t]) ?? string.Empty;
                special[t] = specialMask[t] == 1;

                // Hugging Face: a piece is a sub-word when its text differs in length from the characters it covers (the "##"),
                // except [UNK], which stands for the whole word.
                subword[t] = !special[t] && ids[t] != Tokenizer.UnkTokenId && pieces[t].Length != offsets[t].Length;
            }

            result[r] = new TokenizedRow(rows[r], pieces, offsets, special, subword);
        }

        return result;
    }
}
