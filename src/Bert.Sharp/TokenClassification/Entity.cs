namespace Bert.Sharp;

/// <summary>
/// A named entity found in a text: what Hugging Face's <c>TokenClassificationPipeline</c> returns per entity, with
/// character offsets into the input.
/// </summary>
/// <remarks>
/// With <see cref="AggregationStrategy.None"/> there is one entity per word piece and <see cref="Group"/> is the raw
/// label (<c>B-PER</c>); Hugging Face calls that field <c>entity</c>. With the other strategies pieces are merged into
/// words and words into entities, and <see cref="Group"/> is the entity type (<c>PER</c>); Hugging Face calls that
/// field <c>entity_group</c>. <see cref="Text"/> is always <c>text[Start..End]</c> of the input, so it keeps the
/// input's case and spacing (Hugging Face's <c>word</c> is rebuilt from the pieces and is lower-cased by uncased
/// models).
/// </remarks>
/// <param name="Group">The entity type (aggregated strategies) or the label of the piece (<see cref="AggregationStrategy.None"/>).</param>
/// <param name="Text">The entity's characters in the input: <c>text[Start..End]</c>.</param>
/// <param name="Start">Index of the entity's first character in the input.</param>
/// <param name="End">Index one past the entity's last character in the input.</param>
/// <param name="Score">The model's probability for <see cref="Group"/>: for a merged entity, the mean over its pieces or words.</param>
public sealed record Entity(string Group, string Text, int Start, int End, float Score);
