namespace Bert.Sharp.Inference;

/// <summary>The <see cref="ITextEncoder"/> over a <see cref="BertTokenizer"/>: unpadded, longest-first truncation (Hugging Face's default).</summary>
internal sealed class TokenizerTextEncoder(BertTokenizer tokenizer) : ITextEncoder
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
}
