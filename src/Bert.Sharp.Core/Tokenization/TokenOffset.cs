namespace Bert.Sharp;

/// <summary>
/// Where a token comes from in its source text: the UTF-16 range [<see cref="Start"/>, <see cref="End"/>),
/// usable with <see cref="string.Substring(int, int)"/>. Special and padding tokens have (0, 0).
/// </summary>
/// <param name="Start">Index of the first char.</param>
/// <param name="End">Index one past the last char.</param>
public readonly record struct TokenOffset(int Start, int End)
{
    /// <summary>Number of chars covered.</summary>
    public int Length => End - Start;
}
