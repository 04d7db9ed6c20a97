namespace Bert.Sharp.Tokenization;

/// <summary>Hugging Face's <c>Strip</c> normalizer: removes white space at the start and/or the end.</summary>
internal sealed class StripNormalizer(bool left, bool right) : ITextNormalizer
{
    /// <inheritdoc />
    public void Normalize(AlignedText text)
    {
        if (right)
        {
            int end = text.Count;
            while (end > 0 && WhiteSpace.Is(text[end - 1].CodePoint))
            {
                end--;
            }

            text.RemoveRange(end, text.Count - end);
        }

        if (left)
        {
            int start = 0;
            while (start < text.Count && WhiteSpace.Is(text[start].CodePoint))
            {
                start++;
            }

            text.RemoveRange(0, start);
        }
    }
}
