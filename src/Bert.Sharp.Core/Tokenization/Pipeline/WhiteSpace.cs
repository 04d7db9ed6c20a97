namespace Bert.Sharp.Tokenization;

/// <summary>The Unicode <c>White_Space</c> property (Rust's <c>char::is_whitespace</c>, Oniguruma's <c>\s</c>): a fixed
/// list, the same in every Unicode version since 6.3, so no platform table is consulted.</summary>
internal static class WhiteSpace
{
    /// <summary>Whether <paramref name="codePoint"/> has the <c>White_Space</c> property.</summary>
    public static bool Is(int codePoint) => codePoint switch
    {
        >= 0x09 and <= 0x0D => true,
        0x20 or 0x85 or 0xA0 or 0x1680 => true,
        >= 0x2000 and <= 0x200A => true,
        0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };
}
