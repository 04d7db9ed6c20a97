namespace Bert.Sharp.Inference;

/// <summary>
/// The tokenization step of training and prediction (both backends): texts (and pairs) to ids with [CLS]/[SEP], truncated, unpadded.
/// <c>BertTokenizer</c> is the implementation users get; tests may plug in a trivial one.
/// </summary>
internal interface ITextEncoder
{
    /// <summary>The padding id (must match the model's <c>pad_token_id</c> only by convention; the attention mask hides it).</summary>
    int PadTokenId { get; }

    /// <summary>The longest sequence the tokenizer was made for.</summary>
    int ModelMaxLength { get; }

    /// <summary>Encodes texts (with <paramref name="pairs"/>[i] as second segment when given), truncated to <paramref name="maxLength"/> tokens.</summary>
    IReadOnlyList<EncodedText> Encode(IReadOnlyList<string> texts, IReadOnlyList<string>? pairs, int maxLength);

    /// <summary>Encodes pre-split words (token classification): ids with [CLS]/[SEP] and the word of each token.</summary>
    WordEncoding EncodeWords(IReadOnlyList<string> words, int maxLength);
}
