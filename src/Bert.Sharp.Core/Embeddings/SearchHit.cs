namespace Bert.Sharp;

/// <summary>One result of <see cref="SemanticSearch"/>: which corpus entry, and how similar it is.</summary>
/// <param name="CorpusId">The entry's index in the corpus.</param>
/// <param name="Score">Cosine similarity between query and entry, -1..1 (0 when either vector is all zeros).</param>
/// <param name="Text">The entry's text when the search was built from texts; <c>null</c> for a search over vectors.</param>
public sealed record SearchHit(int CorpusId, float Score, string? Text = null);
