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

    /// <summary>Turns ids back into text.</summary>
    string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true);
}
