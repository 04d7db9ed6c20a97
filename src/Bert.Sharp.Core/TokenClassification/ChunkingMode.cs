namespace Bert.Sharp.TokenClassification;

/// <summary>How a tag sequence is cut into entities for evaluation; the two modes of seqeval.</summary>
internal enum ChunkingMode
{
    /// <summary>
    /// seqeval's default and the Perl <c>conlleval</c> script: an <c>I-X</c> after <c>O</c> or after another type
    /// starts a new entity, so a prediction that forgets the <c>B-</c> still scores. What Hugging Face's examples report.
    /// </summary>
    Default,

    /// <summary>
    /// seqeval's <c>mode='strict', scheme=IOB2</c>: an entity is exactly <c>B-X</c> followed by zero or more <c>I-X</c>;
    /// an <c>I-X</c> that does not continue one is not an entity. Every tag must be <c>O</c>, <c>B-X</c> or <c>I-X</c>.
    /// </summary>
    StrictIob2,
}
