namespace Bert.Sharp;

/// <summary>
/// Pre-split words encoded as one sequence (<see cref="BertTokenizer.EncodeWords"/>): <c>[CLS]</c>, the pieces of each word,
/// <c>[SEP]</c>, with the word each token came from — what token classification aligns its word-level labels with.
/// </summary>
/// <param name="InputIds">Token ids, starting with [CLS] and ending with [SEP].</param>
/// <param name="WordIds">For each token, the index of the input word it belongs to; <c>null</c> for [CLS] and [SEP] (Hugging Face's <c>word_ids()</c>).</param>
/// <param name="WordsKept">How many input words have tokens in the sequence (the rest were truncated away).</param>
public sealed record WordEncoding(IReadOnlyList<int> InputIds, IReadOnlyList<int?> WordIds, int WordsKept);
