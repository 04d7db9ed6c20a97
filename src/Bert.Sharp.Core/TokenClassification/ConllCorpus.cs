namespace Bert.Sharp.TokenClassification;

/// <summary>The sentences of a CoNLL file and what the reader noticed but accepted.</summary>
/// <param name="Sentences">The sentences, in file order.</param>
/// <param name="Warnings">
/// One message per tag the reader accepted although it is not strict IOB2, naming file and line: an <c>I-</c> tag that
/// starts an entity (after <c>O</c>, after another type, or first in a sentence), as BIO/IOB1 files have. Evaluation in
/// the default (conlleval) mode reads such a tag as the start of an entity; strict IOB2 mode drops that entity.
/// </param>
public sealed record ConllCorpus(IReadOnlyList<TaggedSentence> Sentences, IReadOnlyList<string> Warnings);
