namespace Bert.Sharp.Tokenization;

/// <summary>One of the <c>normalizer</c> steps of a <c>tokenizer.json</c>, applied in place to an aligned text.</summary>
internal interface ITextNormalizer
{
    /// <summary>Normalizes <paramref name="text"/>, keeping each code point's alignment as Hugging Face does.</summary>
    void Normalize(AlignedText text);
}
