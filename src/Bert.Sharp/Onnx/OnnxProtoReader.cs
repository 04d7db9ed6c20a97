using Google.Protobuf;

namespace Bert.Sharp.Onnx;

/// <summary>
/// A minimal reader of the parts of an ONNX <c>ModelProto</c> that the BERT importer needs (graph, nodes, attributes,
/// initializers), on Google.Protobuf's <see cref="CodedInputStream"/> and the field numbers of <c>onnx.proto</c>; no
/// generated code. Sub-messages and <c>raw_data</c> are slices of the file's bytes, so the weights are not copied twice.
/// </summary>
internal static class OnnxProtoReader
{
    /// <summary>Parses <paramref name="bytes"/> (a whole .onnx file) into its graph.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed ONNX model; the message names <paramref name="source"/>.</exception>
    public static OnnxGraphProto ReadModel(byte[] bytes, string source)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        try
        {
            OnnxGraphProto? graph = null;
            long irVersion = 0;
            var cursor = new Cursor(bytes, 0, bytes.Length);
            while (cursor.Next(out int field, out WireFormat.WireType type))
            {
                switch (field, type)
                {
                    case (1, WireFormat.WireType.Varint):
                        irVersion = cursor.Input.ReadInt64();
                        break;
                    case (7, WireFormat.WireType.LengthDelimited):
                        (int offset, int length) = cursor.ReadSlice();
                        graph = ReadGraph(bytes, offset, length);
                        break;
                    default:
                        cursor.Skip();
                        break;
                }
            }

            if (graph is null || irVersion <= 0)
            {
                throw new InvalidDataException($"'{source}' is not an ONNX model: it has no {(irVersion <= 0 ? "ir_version" : "graph")}.");
            }

            return graph;
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or FormatException)
        {
            throw new InvalidDataException($"'{source}' is not a valid ONNX model (truncated or not protobuf): {e.Message}", e);
        }
    }

    private static OnnxGraphProto ReadGraph(byte[] bytes, int start, int length)
    {
        var graph = new OnnxGraphProto();
        var cursor = new Cursor(bytes, start, length);
        while (cursor.Next(out int field, out WireFormat.WireType type))
        {
            if (type != WireFormat.WireType.LengthDelimited)
            {
                cursor.Skip();
                continue;
            }

            switch (field)
            {
                case 1:
                    (int no, int nl) = cursor.ReadSlice();
                    graph.Nodes.Add(ReadNode(bytes, no, nl));
                    break;
                case 5:
                    (int to, int tl) = cursor.ReadSlice();
                    OnnxTensorProto tensor = ReadTensor(bytes, to, tl);
                    graph.Initializers[tensor.Name] = tensor;
                    break;
                case 11:
                    (int io, int il) = cursor.ReadSlice();
                    graph.Inputs.Add(ReadValueInfoName(bytes, io, il));
                    break;
                case 12:
                    (int oo, int ol) = cursor.ReadSlice();
                    graph.Outputs.Add(ReadValueInfoName(bytes, oo, ol));
                    break;
                default:
                    cursor.Skip();
                    break;
            }
        }

        return graph;
    }

    private static string ReadValueInfoName(byte[] bytes, int start, int length)
    {
        var cursor = new Cursor(bytes, start, length);
        string name = string.Empty;
        while (cursor.Next(out int field, out WireFormat.WireType type))
        {
            if (field == 1 && type == WireFormat.WireType.LengthDelimited)
            {
                name = cursor.Input.ReadString();
            }
            else
            {
                cursor.Skip();
            }
        }

        return name;
    }

    private static OnnxNodeProto ReadNode(byte[] bytes, int start, int length)
    {
        var node = new OnnxNodeProto();
        var cursor = new Cursor(bytes, start, length);
        while (cursor.Next(out int field, out WireFormat.WireType type))
        {
            if (type != WireFormat.WireType.LengthDelimited)
            {
                cursor.Skip();
                continue;
            }

            switch (field)
            {
                case 1:
                    node.Inputs.Add(cursor.Input.ReadString());
                    break;
                case 2:
                    node.Outputs.Add(cursor.Input.ReadString());
                    break;
                case 3:
                    node.Name = cursor.Input.ReadString();
                    break;
                case 4:
                    node.OpType = cursor.Input.ReadString();
                    break;
                case 5:
                    (int ao, int al) = cursor.ReadSlice();
                    OnnxAttributeProto attribute = ReadAttribute(bytes, ao, al);
                    node.Attributes[attribute.Name] = attribute;
                    break;
                case 7:
                    node.Domain = cursor.Input.ReadString();
                    break;
                default:
                    cursor.Skip();
                    break;
            }
        }

        return node;
    }

    private static OnnxAttributeProto ReadAttribute(byte[] bytes, int start, int length)
    {
        var attribute = new OnnxAttributeProto();
        var cursor = new Cursor(bytes, start, length);
        while (cursor.Next(out int field, out WireFormat.WireType type))
        {
            switch (field, type)
            {
                case (1, WireFormat.WireType.LengthDelimited):
                    attribute.Name = cursor.Input.ReadString();
                    break;
                case (2, WireFormat.WireType.Fixed32):
                    attribute.F = cursor.Input.ReadFloat();
                    break;
                case (3, WireFormat.WireType.Varint):
                    attribute.I = cursor.Input.ReadInt64();
                    break;
                case (4, WireFormat.WireType.LengthDelimited):
                    attribute.S = cursor.Input.ReadString();
                    break;
                case (5, WireFormat.WireType.LengthDelimited):
                    (int to, int tl) = cursor.ReadSlice();
                    attribute.T = ReadTensor(bytes, to, tl);
                    break;
                case (7, WireFormat.WireType.Fixed32):
                    attribute.Floats.Add(cursor.Input.ReadFloat());
                    break;
                case (7, WireFormat.WireType.LengthDelimited):
                    cursor.ReadPackedFloats(attribute.Floats);
                    break;
                case (8, WireFormat.WireType.Varint):
                    attribute.Ints.Add(cursor.Input.ReadInt64());
                    break;
                case (8, WireFormat.WireType.LengthDelimited):
                    cursor.ReadPackedInt64s(attribute.Ints);
                    break;
                default:
                    cursor.Skip();
                    break;
            }
        }

        return attribute;
    }

    private static OnnxTensorProto ReadTensor(byte[] bytes, int start, int length)
    {
        var tensor = new OnnxTensorProto();
        var cursor = new Cursor(bytes, start, length);
        while (cursor.Next(out int field, out WireFormat.WireType type))
        {
            switch (field, type)
            {
                case (1, WireFormat.WireType.Varint):
                    tensor.Dims.Add(cursor.Input.ReadInt64());
                    break;
                case (1, WireFormat.WireType.LengthDelimited):
                    cursor.ReadPackedInt64s(tensor.Dims);
                    break;
                case (2, WireFormat.WireType.Varint):
                    tensor.DataType = cursor.Input.ReadInt32();
                    break;
                case (4, WireFormat.WireType.Fixed32):
                    tensor.FloatData.Add(cursor.Input.ReadFloat());
                    break;
                case (4, WireFormat.WireType.LengthDelimited):
                    cursor.ReadPackedFloats(tensor.FloatData);
                    break;
                case (5, WireFormat.WireType.Varint):
                    tensor.Int32Data.Add(cursor.Input.ReadInt32());
                    break;
                case (5, WireFormat.WireType.LengthDelimited):
                    var ints = new List<long>();
                    cursor.ReadPackedInt64s(ints);
                    tensor.Int32Data.AddRange(ints.Select(x => (int)x));
                    break;
                case (7, WireFormat.WireType.Varint):
                    tensor.Int64Data.Add(cursor.Input.ReadInt64());
                    break;
                case (7, WireFormat.WireType.LengthDelimited):
                    cursor.ReadPackedInt64s(tensor.Int64Data);
                    break;
                case (8, WireFormat.WireType.LengthDelimited):
                    tensor.Name = cursor.Input.ReadString();
                    break;
                case (9, WireFormat.WireType.LengthDelimited):
                    (int ro, int rl) = cursor.ReadSlice();
                    tensor.RawData = new ReadOnlyMemory<byte>(bytes, ro, rl);
                    tensor.HasRawData = true;
                    break;
                case (10, WireFormat.WireType.Fixed64):
                    tensor.DoubleData.Add(cursor.Input.ReadDouble());
                    break;
                case (10, WireFormat.WireType.LengthDelimited):
                    cursor.ReadPackedDoubles(tensor.DoubleData);
                    break;
                case (14, WireFormat.WireType.Varint):
                    tensor.IsExternal = cursor.Input.ReadInt32() == 1;
                    break;
                default:
                    cursor.Skip();
                    break;
            }
        }

        return tensor;
    }

    /// <summary>Walks the fields of one message held in <c>bytes[start..start+length]</c>.</summary>
    private sealed class Cursor
    {
        private readonly byte[] bytes;
        private readonly int start;
        private readonly long basePosition;

        public Cursor(byte[] bytes, int start, int length)
        {
            this.bytes = bytes;
            this.start = start;
            Input = new CodedInputStream(bytes, start, length);
            basePosition = Input.Position;
        }

        public CodedInputStream Input { get; }

        public bool Next(out int field, out WireFormat.WireType type)
        {
            uint tag = Input.ReadTag();
            field = WireFormat.GetTagFieldNumber(tag);
            type = WireFormat.GetTagWireType(tag);
            return tag != 0;
        }

        public void Skip() => Input.SkipLastField();

        /// <summary>Skips a length-delimited field and returns where its payload lies in the file's bytes.</summary>
        public (int Offset, int Length) ReadSlice()
        {
            int lengthPrefixAt = start + (int)(Input.Position - basePosition);
            Input.SkipLastField();
            int end = start + (int)(Input.Position - basePosition);
            int length = ReadVarint32(bytes, lengthPrefixAt);
            return (end - length, length);
        }

        public void ReadPackedInt64s(List<long> target)
        {
            (int offset, int length) = ReadSlice();
            var inner = new CodedInputStream(bytes, offset, length);
            while (!inner.IsAtEnd)
            {
                target.Add(inner.ReadInt64());
            }
        }

        public void ReadPackedFloats(List<float> target)
        {
            (int offset, int length) = ReadSlice();
            if (length % 4 != 0)
            {
                throw new FormatException($"A packed float field has {length} bytes, not a multiple of 4.");
            }

            for (int i = 0; i < length; i += 4)
            {
                target.Add(BitConverter.ToSingle(bytes, offset + i));
            }
        }

        public void ReadPackedDoubles(List<double> target)
        {
            (int offset, int length) = ReadSlice();
            if (length % 8 != 0)
            {
                throw new FormatException($"A packed double field has {length} bytes, not a multiple of 8.");
            }

            for (int i = 0; i < length; i += 8)
            {
                target.Add(BitConverter.ToDouble(bytes, offset + i));
            }
        }

        private static int ReadVarint32(byte[] buffer, int at)
        {
            int result = 0;
            for (int shift = 0; shift < 35; shift += 7)
            {
                byte b = buffer[at++];
                result |= (b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return result;
                }
            }

            throw new FormatException("A length prefix is malformed.");
        }
    }

}
