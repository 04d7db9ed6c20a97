namespace Bert.Sharp.TokenClassification;

/// <summary>An entity in a tag sequence: its type and token range.</summary>
/// <param name="Type">The entity type (<c>PER</c> for <c>B-PER I-PER</c>).</param>
/// <param name="Start">Index of its first token.</param>
/// <param name="End">Index one past its last token (seqeval's <c>get_entities</c> reports the last index, <c>End - 1</c>).</param>
internal readonly record struct EntitySpan(string Type, int Start, int End);
