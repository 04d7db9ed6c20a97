namespace Bert.Sharp;

/// <summary>
/// One sentence of a token-classification data set: its word tokens and one tag per token (for named entities,
/// IOB2 tags such as <c>B-PER</c>, <c>I-PER</c> and <c>O</c>).
/// </summary>
/// <remarks>
/// This is what a CoNLL file holds: words already split, not raw text. Training aligns the tags to word pieces
/// (the first piece of a word gets its tag); evaluation compares tags word by word.
/// </remarks>
public sealed record TaggedSentence
{
    /// <summary>Creates a sentence; <paramref name="tokens"/> and <paramref name="tags"/> must have the same length.</summary>
    /// <param name="tokens">The words, in order.</param>
    /// <param name="tags">One tag per word.</param>
    /// <exception cref="ArgumentException">The lists differ in length, or a token or tag is null or empty.</exception>
    public TaggedSentence(IReadOnlyList<string> tokens, IReadOnlyList<string> tags)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(tags);
        if (tokens.Count != tags.Count)
        {
            throw new ArgumentException($"A sentence needs one tag per token: {tokens.Count} token(s) but {tags.Count} tag(s).", nameof(tags));
        }

        for (int i = 0; i < tokens.Count; i++)
        {
            if (string.IsNullOrEmpty(tokens[i]))
            {
                throw new ArgumentException($"Token {i} is null or empty.", nameof(tokens));
            }

            if (string.IsNullOrEmpty(tags[i]))
            {
                throw new ArgumentException($"The tag of token {i} ('{tokens[i]}') is null or empty.", nameof(tags));
            }
        }

        Tokens = tokens;
        Tags = tags;
    }

    /// <summary>The words, in order.</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>One tag per word, aligned with <see cref="Tokens"/>.</summary>
    public IReadOnlyList<string> Tags { get; }

    /// <summary>Deconstructs into tokens and tags.</summary>
    /// <param name="tokens">The words.</param>
    /// <param name="tags">The tags.</param>
    public void Deconstruct(out IReadOnlyList<string> tokens, out IReadOnlyList<string> tags)
    {
        tokens = Tokens;
        tags = Tags;
    }
}
