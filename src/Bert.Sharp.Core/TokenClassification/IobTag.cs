namespace Bert.Sharp.TokenClassification;

/// <summary>Reads IOB2 tags: <c>O</c>, or <c>B-</c>/<c>I-</c> followed by a non-empty entity type.</summary>
internal static class IobTag
{
    /// <summary>The tag outside every entity.</summary>
    public const string Outside = "O";

    /// <summary>Whether <paramref name="tag"/> is <c>O</c>, <c>B-TYPE</c> or <c>I-TYPE</c>.</summary>
    public static bool IsValid(string tag) => tag == Outside || TryParse(tag, out _, out _);

    /// <summary>Splits <c>B-TYPE</c>/<c>I-TYPE</c> into its prefix (<c>'B'</c> or <c>'I'</c>) and type; false for <c>O</c> and anything else.</summary>
    public static bool TryParse(string tag, out char prefix, out string type)
    {
        ArgumentNullException.ThrowIfNull(tag);
        if (tag.Length > 2 && tag[1] == '-' && tag[0] is 'B' or 'I')
        {
            prefix = tag[0];
            type = tag[2..];
            return true;
        }

        prefix = '\0';
        type = string.Empty;
        return false;
    }
}
