namespace Bert.Sharp;

/// <summary>Which text loses tokens when a sequence is longer than the maximum length. Special tokens count.</summary>
public enum TruncationStrategy
{
    /// <summary>Never truncate: sequences may exceed the model's maximum length.</summary>
    None,

    /// <summary>Take tokens from the longer text of a pair until the pair fits (Hugging Face's <c>longest_first</c>).</summary>
    LongestFirst,

    /// <summary>Take tokens from the first text only (<c>only_first</c>).</summary>
    OnlyFirst,

    /// <summary>Take tokens from the second text only (<c>only_second</c>), e.g. the context of a question.</summary>
    OnlySecond,
}
