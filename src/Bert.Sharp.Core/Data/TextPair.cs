namespace Bert.Sharp;

/// <summary>
/// Two texts that mean the same thing (a question and its answer, a sentence and its paraphrase), and optionally one that
/// does not: the examples sentence embeddings are fine-tuned on (sentence-transformers' MultipleNegativesRankingLoss; the
/// other positives of a batch serve as negatives).
/// </summary>
/// <param name="Anchor">The first text.</param>
/// <param name="Positive">A text that should embed close to <paramref name="Anchor"/>.</param>
/// <param name="Negative">Optionally, a text that should embed far from it (a hard negative).</param>
public sealed record TextPair(string Anchor, string Positive, string? Negative = null);
