namespace Bert.Sharp;

/// <summary>What every tokenizer <see cref="AutoTokenizer.FromPretrained"/> returns can do.</summary>
public interface IPretrainedTokenizer
{
    /// <summary>Number of ids (model vocabulary and added tokens).</summary>
    int VocabularySize { get; }

    /// <summary>
    /// Token ids of <paramref name="text"/> (and <paramref name="pair"/>) with the special tokens of the model's
    /// template, as Hugging Face's <c>tokenizer(text, pair)["input_ids"]</c>; no truncation.
    /// </summary>
    IReadOnlyList<int> Encode(string text, string? pair = null);

    /// <summary>The longest sequence the model takes, in tokens with the special ones: what batches truncate to by default.</summary>
    int ModelMaxLength { get; }

    /// <summary>
    /// A batch of single texts with the template's special tokens, truncated and padded as <paramref name="options"/>
    /// says (default: longest-first to <see cref="ModelMaxLength"/>, padded to the longest row), as transformers'
    /// <c>tokenizer(texts, padding=True, truncation=True)</c>: ids, attention mask, token types, special-tokens mask, offsets.
    /// </summary>
    BatchEncoding EncodeBatch(IReadOnlyList<string> texts, EncodingOptions? options = null);

    /// <summary>A batch of pairs (<c>texts[i]</c> with <c>pairs[i]</c>), as <see cref="EncodeBatch(IReadOnlyList{string}, EncodingOptions?)"/>.</summary>
    BatchEncoding EncodeBatch(IReadOnlyList<string> texts, IReadOnlyList<string> pairs, EncodingOptions? options = null);

    /// <summary>Turns ids back into text.</summary>
    string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true);
}
