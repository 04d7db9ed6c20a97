namespace Bert.Sharp.Tokenization;

/// <summary>Everything a <see cref="SubwordTokenizer"/> is made of, as read from a <c>tokenizer.json</c>.</summary>
internal sealed record TokenizerModelParts(
    TokenizerKind Kind,
    ITextNormalizer? Normalizer,
    bool AddPrefixSpace,
    string PrependScheme,
    bool MetaspaceSplit,
    BpeModel? Bpe,
    UnigramModel? Unigram,
    IReadOnlyList<AddedToken> AddedTokens,
    PostTemplate Template,
    IReadOnlyDictionary<int, string> IdToToken,
    IReadOnlySet<int> SpecialIds,
    IReadOnlyDictionary<char, byte> CharToByte);
