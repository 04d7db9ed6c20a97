using System.Buffers;
using System.Text;

namespace Bert.Sharp.Data;

/// <summary>
/// UTF-8 that refuses invalid bytes instead of replacing them with U+FFFD: a data file saved as Latin-1 or cut in the
/// middle of a character would otherwise train on texts that differ from the file, silently. The refusal names the file,
/// the line and the byte offset.
/// </summary>
internal static class StrictUtf8
{
    /// <summary>UTF-8 without a byte order mark on output, throwing <see cref="DecoderFallbackException"/> on bad input.</summary>
    public static readonly UTF8Encoding Encoding = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The exception to throw for <paramref name="path"/> once its decoder found invalid bytes.</summary>
    public static InvalidDataException Invalid(string path, DecoderFallbackException cause)
    {
        byte[] bytes = File.ReadAllBytes(path);
        ReadOnlySpan<byte> rest = bytes;
        int offset = 0;
        while (!rest.IsEmpty && Rune.DecodeFromUtf8(rest, out _, out int consumed) == OperationStatus.Done)
        {
            offset += consumed;
            rest = rest[consumed..];
        }

        int line = 1 + bytes.AsSpan(0, offset).Count((byte)'\n');
        string at = offset < bytes.Length ? $"byte {offset} (0x{bytes[offset]:X2})" : "the end of the file";
        return new InvalidDataException(
            $"{path}:{line}: invalid UTF-8 at {at}; save the file as UTF-8 (it may be Latin-1/Windows-1252 or cut inside a character).",
            cause);
    }
}
