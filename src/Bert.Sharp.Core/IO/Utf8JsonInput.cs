using System.Text.Unicode;

namespace Bert.Sharp.IO;

/// <summary>
/// Prepares the bytes of a JSON file for <c>System.Text.Json</c>: the UTF-8 byte-order mark is skipped (as the stream
/// readers do) and the text is checked to be UTF-8 first, because <c>JsonDocument</c> validates string contents lazily
/// and would otherwise throw <see cref="InvalidOperationException"/> from the first property name it decodes.
/// </summary>
internal static class Utf8JsonInput
{
    /// <summary>The JSON text of <paramref name="bytes"/> without a byte-order mark.</summary>
    /// <param name="bytes">The file's bytes.</param>
    /// <param name="source">Names the file in the message, already quoted (<c>'path'</c>).</param>
    /// <exception cref="InvalidDataException">The bytes are not UTF-8.</exception>
    public static ReadOnlyMemory<byte> Prepare(byte[] bytes, string source)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ReadOnlyMemory<byte> text = bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? bytes.AsMemory(3) : bytes;
        if (!Utf8.IsValid(text.Span))
        {
            throw new InvalidDataException($"{source} is not UTF-8 text, so it is not the JSON file expected.");
        }

        return text;
    }
}
