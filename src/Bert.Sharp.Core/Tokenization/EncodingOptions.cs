namespace Bert.Sharp;

/// <summary>
/// Padding, truncation and overflow settings for batch encoding, like the arguments of a Hugging Face tokenizer
/// call. The defaults (pad to the longest row, truncate longest-first to the model's maximum length) give a batch
/// that a BERT model accepts as is.
/// </summary>
public sealed record EncodingOptions
{
    /// <summary>Default options: pad to longest, truncate longest-first to the model's maximum length.</summary>
    public static EncodingOptions Default { get; } = new();

    /// <summary>How rows are padded.</summary>
    public PaddingStrategy Padding { get; init; } = PaddingStrategy.Longest;

    /// <summary>How over-long sequences are shortened.</summary>
    public TruncationStrategy Truncation { get; init; } = TruncationStrategy.LongestFirst;

    /// <summary>Maximum length in tokens, special tokens included. Null uses the tokenizer's
    /// <see cref="BertTokenizer.ModelMaxLength"/>.</summary>
    public int? MaxLength { get; init; }

    /// <summary>Round the padded length up to a multiple of this (for example 8 for tensor cores). Null or 1: off.</summary>
    public int? PadToMultipleOf { get; init; }

    /// <summary>Keep the tokens cut by truncation as extra rows (windows) instead of dropping them: a long
    /// document becomes several rows, each mapped to its source by <see cref="BatchEncoding.OverflowToSampleMapping"/>.</summary>
    public bool ReturnOverflowingTokens { get; init; }

    /// <summary>With <see cref="ReturnOverflowingTokens"/>: how many tokens consecutive windows share.</summary>
    public int Stride { get; init; }

    /// <summary>The length rows are truncated to (<see cref="MaxLength"/> of <paramref name="options"/>, else
    /// <paramref name="modelMaxLength"/>), after checking it and <see cref="PadToMultipleOf"/>: what every tokenizer's batch starts with.</summary>
    internal static int CheckedMaxLength(EncodingOptions options, int modelMaxLength)
    {
        int maxLength = options.MaxLength ?? modelMaxLength;
        if (maxLength < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), maxLength, "MaxLength must be at least 1.");
        }

        if (options.PadToMultipleOf is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.PadToMultipleOf, "PadToMultipleOf must be at least 1.");
        }

        return maxLength;
    }

    /// <summary><paramref name="length"/> rounded up to a multiple of <see cref="PadToMultipleOf"/> (unchanged when it is off).</summary>
    internal int RoundUpToMultiple(int length) =>
        PadToMultipleOf is > 1 and int m && length % m != 0 ? length + m - (length % m) : length;
}
