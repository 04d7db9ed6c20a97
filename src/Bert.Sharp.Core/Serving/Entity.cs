namespace Bert.Sharp;

/// <summary>
/// One entity found in a text by a token classifier, as Hugging Face's token-classification pipeline reports it.
/// </summary>
/// <param name="Group">The entity type (<c>PER</c>, <c>ORG</c>, ...) with an aggregation strategy; the raw tag (<c>B-PER</c>) without one.</param>
/// <param name="Text">The entity's characters in the input: <c>text[Start..End]</c>.</param>
/// <param name="Start">Index of the first character in the input text.</param>
/// <param name="End">Index one past the last character in the input text.</param>
/// <param name="Score">The model's confidence, 0..1 (how it is combined over word pieces depends on the aggregation strategy).</param>
public sealed record Entity(string Group, string Text, int Start, int End, float Score);
