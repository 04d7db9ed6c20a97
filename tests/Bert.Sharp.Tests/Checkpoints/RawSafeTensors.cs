using System.Buffers.Binary;
using System.Text;

namespace Bert.Sharp.Tests.Checkpoints;

/// <summary>Writes safetensors files byte by byte, so tests can build malformed ones.</summary>
internal static class RawSafeTensors
{
    public static void Write(string path, string headerJson, byte[] data, ulong? headerLengthOverride = null)
    {
        byte[] header = Encoding.UTF8.GetBytes(headerJson);
        using var stream = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, headerLengthOverride ?? (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        stream.Write(data);
    }
}
