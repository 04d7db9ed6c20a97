namespace Bert.Sharp.Tokenization;

/// <summary>Hugging Face's <c>Sequence</c> normalizer: its steps in order.</summary>
internal sealed class SequenceNormalizer(IReadOnlyList<ITextNormalizer> steps) : ITextNormalizer
{
    /// <inheritdoc />
    public void Normalize(AlignedText text)
    {
        foreach (ITextNormalizer step in steps)
        {
            step.Normalize(text);
        }
    }
}
