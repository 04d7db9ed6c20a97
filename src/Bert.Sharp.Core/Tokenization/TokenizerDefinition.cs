namespace Bert.Sharp.Tokenization;

/// <summary>Everything a <see cref="BertTokenizer"/> is built from, whichever files it was read from.</summary>
/// <param name="Vocabulary">Token → id pairs.</param>
/// <param name="Options">Normalization settings and special tokens.</param>
/// <param name="ContinuingSubwordPrefix">Prefix of continuation pieces (<c>##</c>).</param>
/// <param name="AddedSpecialTokens">Special tokens matched inside raw text, beyond the five of <paramref name="Options"/>.</param>
/// <param name="Source">The file or directory it came from, for error messages.</param>
internal sealed record TokenizerDefinition(
    IReadOnlyList<KeyValuePair<string, int>> Vocabulary,
    BertTokenizerOptions Options,
    string ContinuingSubwordPrefix,
    IReadOnlyList<string> AddedSpecialTokens,
    string Source);
