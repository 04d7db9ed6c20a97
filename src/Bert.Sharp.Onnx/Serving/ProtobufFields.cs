using System.Buffers;
using System.Text;

namespace Bert.Sharp.Serving;

/// <summary>
/// The fields of one protobuf message, read from the wire format without a schema (numbers, wire types and byte ranges),
/// and the writing of fields back. Enough to edit a few fields of an ONNX model and copy every other byte as it was;
/// this package has no generated ONNX types.
/// </summary>
internal static class ProtobufFields
{
    /// <summary>Wire type of varints.</summary>
    public const int Varint = 0;

    /// <summary>Wire type of strings, bytes and embedded messages.</summary>
    public const int LengthDelimited = 2;

    /// <summary>One field: its number and wire type, where it starts (tag included) and ends, and where its payload starts.</summary>
    public readonly record struct Field(int Number, int WireType, int Start, int PayloadStart, int End)
    {
        /// <summary>The payload of a length-delimited field, or the encoded value of any other.</summary>
        public ReadOnlyMemory<byte> Payload(ReadOnlyMemory<byte> message) => message[PayloadStart..End];

        /// <summary>The whole field as it was written, tag included.</summary>
        public ReadOnlyMemory<byte> Raw(ReadOnlyMemory<byte> message) => message[Start..End];
    }

    /// <summary>The fields of <paramref name="message"/> in order.</summary>
    /// <exception cref="InvalidDataException">Not a well-formed message (a truncated field, a group, an unknown wire type).</exception>
    public static List<Field> Read(ReadOnlySpan<byte> message)
    {
        var fields = new List<Field>();
        int position = 0;
        while (position < message.Length)
        {
            int start = position;
            ulong tag = ReadVarint(message, ref position);
            if (tag >> 3 > int.MaxValue)
            {
                throw new InvalidDataException($"A field number ({tag >> 3}) is out of protobuf's range.");
            }

            int number = (int)(tag >> 3), wireType = (int)(tag & 7);
            int payloadStart = position;
            switch (wireType)
            {
                case Varint:
                    ReadVarint(message, ref position);
                    break;
                case 1:
                    position += 8;
                    break;
                case LengthDelimited:
                    ulong length = ReadVarint(message, ref position);
                    if (length > (ulong)(message.Length - position))
                    {
                        throw new InvalidDataException($"A length-delimited field {number} runs past the end of its message.");
                    }

                    payloadStart = position;
                    position += (int)length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"Field {number} has wire type {wireType}, which ONNX files do not use.");
            }

            if (position > message.Length)
            {
                throw new InvalidDataException($"Field {number} runs past the end of its message.");
            }

            fields.Add(new Field(number, wireType, start, payloadStart, position));
        }

        return fields;
    }

    /// <summary>
    /// The payloads of the length-delimited fields numbered <paramref name="number"/> of the message that fills
    /// <paramref name="stream"/> (a seekable file), every other field skipped without reading it: the metadata of an ONNX
    /// model without reading its graph.
    /// </summary>
    /// <exception cref="InvalidDataException">Not a well-formed message.</exception>
    public static List<byte[]> ReadPayloads(Stream stream, int number)
    {
        var payloads = new List<byte[]>();
        while (stream.Position < stream.Length)
        {
            ulong tag = ReadVarint(stream);
            int wireType = (int)(tag & 7);
            long skip = wireType switch
            {
                Varint => 0,
                1 => 8,
                LengthDelimited => checked((long)Math.Min(ReadVarint(stream), long.MaxValue)),
                5 => 4,
                _ => throw new InvalidDataException($"Field {tag >> 3} has wire type {wireType}, which ONNX files do not use."),
            };
            if (wireType == Varint)
            {
                ReadVarint(stream);
                continue;
            }

            if (skip > stream.Length - stream.Position)
            {
                throw new InvalidDataException($"Field {tag >> 3} runs past the end of its message.");
            }

            if (wireType == LengthDelimited && tag >> 3 == (ulong)number)
            {
                byte[] payload = new byte[skip];
                stream.ReadExactly(payload);
                payloads.Add(payload);
            }
            else
            {
                stream.Seek(skip, SeekOrigin.Current);
            }
        }

        return payloads;
    }

    /// <summary>The value of a varint field.</summary>
    public static ulong VarintValue(ReadOnlySpan<byte> message, Field field)
    {
        int position = field.PayloadStart;
        return ReadVarint(message, ref position);
    }

    /// <summary>The UTF-8 string of a length-delimited field.</summary>
    public static string String(ReadOnlySpan<byte> message, Field field) => Encoding.UTF8.GetString(message[field.PayloadStart..field.End]);

    /// <summary>Writes a length-delimited field.</summary>
    public static void WriteBytes(IBufferWriter<byte> output, int number, ReadOnlySpan<byte> payload)
    {
        WriteVarint(output, ((ulong)number << 3) | LengthDelimited);
        WriteVarint(output, (ulong)payload.Length);
        output.Write(payload);
    }

    /// <summary>Writes a string field.</summary>
    public static void WriteString(IBufferWriter<byte> output, int number, string value) => WriteBytes(output, number, Encoding.UTF8.GetBytes(value));

    /// <summary>Writes a varint field.</summary>
    public static void WriteVarintField(IBufferWriter<byte> output, int number, ulong value)
    {
        WriteVarint(output, ((ulong)number << 3) | Varint);
        WriteVarint(output, value);
    }

    private static void WriteVarint(IBufferWriter<byte> output, ulong value)
    {
        Span<byte> buffer = stackalloc byte[10];
        int length = 0;
        do
        {
            byte next = (byte)(value & 0x7F);
            value >>= 7;
            buffer[length++] = value == 0 ? next : (byte)(next | 0x80);
        }
        while (value != 0);

        output.Write(buffer[..length]);
    }

    private static ulong ReadVarint(Stream stream)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            int next = stream.ReadByte();
            if (next < 0)
            {
                throw new InvalidDataException("A varint runs past the end of its message.");
            }

            value |= (ulong)(next & 0x7F) << shift;
            if ((next & 0x80) == 0)
            {
                return value;
            }
        }

        throw new InvalidDataException("A varint is longer than ten bytes.");
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> message, ref int position)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (position >= message.Length)
            {
                throw new InvalidDataException("A varint runs past the end of its message.");
            }

            byte next = message[position++];
            value |= (ulong)(next & 0x7F) << shift;
            if ((next & 0x80) == 0)
            {
                return value;
            }
        }

        throw new InvalidDataException("A varint is longer than ten bytes.");
    }
}
