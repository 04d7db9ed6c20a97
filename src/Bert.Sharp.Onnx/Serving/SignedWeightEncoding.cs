using System.Buffers;
using Field = Bert.Sharp.Serving.ProtobufFields.Field;

namespace Bert.Sharp.Serving;

/// <summary>
/// Re-encodes the weights of an int8 export in <c>OnnxInt8Format.UnsignedWeights</c> (uint8 around the zero point 128) as
/// int8 with no zero point, in memory, for a CPU with VNNI. The numbers are the same — ONNX Runtime multiplies by
/// <c>w − 128</c> either way and every sum is exact in 32 bits — but its u8·s8 products use the dot-product instruction,
/// while u8·u8 products are widened to 16 bits on every x86 CPU: on an AMD EPYC Zen 4 (AVX512-VNNI) the default int8 export
/// of the sentiment model ran at 0.99–1.08 of float32's time at 32 × 128 and at 0.72–0.80 signed. The file is what it was,
/// and still gives the same numbers on CPUs without VNNI, where signed products saturate.
/// </summary>
internal static class SignedWeightEncoding
{
    private const string MicrosoftDomain = "com.microsoft";
    private const int UInt8 = 2, Int8 = 3;
    private const byte UnsignedZeroPoint = 128;

    // ModelProto.graph, ModelProto.metadata_props; StringStringEntryProto.key/value; GraphProto.node/initializer/input/
    // output/value_info; ValueInfoProto.name; NodeProto.input/op_type/domain; TensorProto.dims/data_type/name/raw_data/data_location.
    private const int ModelGraph = 7, ModelMetadata = 14, EntryKey = 1, EntryValue = 2, GraphNode = 1, GraphInitializer = 5;
    private const int GraphInput = 11, GraphOutput = 12, GraphValueInfo = 13, ValueInfoNameField = 1;
    private const int NodeInput = 1, NodeOpType = 4, NodeDomain = 7, TensorDataType = 2, TensorName = 8, TensorRawData = 9, TensorDataLocation = 14;

    /// <summary>Where each integer product of ONNX Runtime's contrib domain takes its weight and the weight's zero point.</summary>
    private static readonly Dictionary<string, (int Weight, int ZeroPoint)> Products = new(StringComparer.Ordinal)
    {
        ["MatMulIntegerToFloat"] = (1, 5),
        ["DynamicQuantizeMatMul"] = (1, 3),
        ["QAttention"] = (1, 7),
    };

    /// <summary>
    /// <paramref name="model"/> with its uint8 product weights as int8 and their zero points dropped, and how many weights
    /// were re-encoded; <c>null</c> when the model is not a Bert.Sharp int8 export in <c>unsigned_weights</c> format or has
    /// no weight that every user takes as a product weight around 128.
    /// </summary>
    /// <exception cref="InvalidDataException">Not a well-formed ONNX model.</exception>
    public static (byte[] Model, int Weights)? Reencode(ReadOnlyMemory<byte> model)
    {
        ReadOnlySpan<byte> bytes = model.Span;
        List<Field> modelFields = ProtobufFields.Read(bytes);
        Field[] graphs = [.. modelFields.Where(f => f.Number == ModelGraph && f.WireType == ProtobufFields.LengthDelimited)];
        var metadata = modelFields.Where(f => f.Number == ModelMetadata && f.WireType == ProtobufFields.LengthDelimited).Select(f => f.Payload(model));
        if (!IsUnsignedWeightsExport(metadata) || graphs.Length != 1)
        {
            return null;
        }

        Field graphField = graphs[0];
        ReadOnlyMemory<byte> graph = graphField.Payload(model);
        List<Field> graphFields = ProtobufFields.Read(graph.Span);
        var nodes = graphFields.Where(f => f.Number == GraphNode).Select(f => ReadNode(graph[f.PayloadStart..f.End])).ToList();
        var tensors = graphFields.Where(f => f.Number == GraphInitializer).Select(f => ReadTensor(graph[f.PayloadStart..f.End])).ToList();
        if (tensors.Any(t => t.External))
        {
            return null; // loaded from memory, ONNX Runtime could not find the data files beside the model
        }

        // Names the graph declares with a type (inputs, outputs, value_info: an initializer listed as an input, as older
        // exporters write them) keep their type: a weight among them is left as it is.
        var declared = graphFields.Where(f => f.Number is GraphInput or GraphOutput or GraphValueInfo)
            .Select(f => ValueInfoName(graph[f.PayloadStart..f.End].Span)).ToHashSet(StringComparer.Ordinal);
        var zeroPoints = tensors.Where(t => t.DataType == UInt8 && t.Raw is { Length: 1 } raw && raw.Span[0] == UnsignedZeroPoint && !t.HasDims).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var unsignedWeights = tensors.Where(t => t.DataType == UInt8 && t.Raw is not null && !zeroPoints.Contains(t.Name) && !declared.Contains(t.Name)).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);

        // A weight is re-encoded only when every use of it is the weight of a product whose zero point is 128.
        var uses = new Dictionary<string, (int All, int AsProductWeight)>(StringComparer.Ordinal);
        foreach (NodeInfo node in nodes)
        {
            int weightIndex = ProductWeightIndex(node, zeroPoints);
            for (int i = 0; i < node.Inputs.Count; i++)
            {
                (int all, int asWeight) = uses.GetValueOrDefault(node.Inputs[i]);
                uses[node.Inputs[i]] = (all + 1, asWeight + (i == weightIndex ? 1 : 0));
            }
        }

        var reencoded = unsignedWeights.Where(w => uses.TryGetValue(w, out var u) && u.All == u.AsProductWeight).ToHashSet(StringComparer.Ordinal);
        if (reencoded.Count == 0)
        {
            return null;
        }

        // The nodes whose weight is re-encoded lose their zero point input; a zero point no node uses any more is not written
        // (ONNX Runtime warns about unused initializers).
        bool[] rewritten = [.. nodes.Select(n => ProductWeightIndex(n, zeroPoints) is int w && w >= 0 && reencoded.Contains(n.Inputs[w]))];
        var unusedZeroPoints = zeroPoints.Where(z => uses.GetValueOrDefault(z).All == nodes.Where((n, i) => rewritten[i] && n.Inputs[Products[n.OpType].ZeroPoint] == z).Count())
            .ToHashSet(StringComparer.Ordinal);
        var graphOutput = new ArrayBufferWriter<byte>(graph.Length);
        int nodeIndex = 0, tensorIndex = 0;
        foreach (Field field in graphFields)
        {
            ReadOnlyMemory<byte> payload = graph[field.PayloadStart..field.End];
            string? initializer = field.Number == GraphInitializer ? tensors[tensorIndex++].Name : null;
            if (field.Number == GraphNode && rewritten[nodeIndex++])
            {
                ProtobufFields.WriteBytes(graphOutput, GraphNode, WithoutZeroPoint(payload, nodes[nodeIndex - 1]));
            }
            else if (initializer is not null && reencoded.Contains(initializer))
            {
                ProtobufFields.WriteBytes(graphOutput, GraphInitializer, AsSigned(payload));
            }
            else if (initializer is null || !unusedZeroPoints.Contains(initializer))
            {
                graphOutput.Write(field.Raw(graph).Span);
            }
        }

        var output = new ArrayBufferWriter<byte>(model.Length);
        foreach (Field field in modelFields)
        {
            if (field.Start == graphField.Start)
            {
                ProtobufFields.WriteBytes(output, ModelGraph, graphOutput.WrittenSpan);
            }
            else
            {
                output.Write(field.Raw(model).Span);
            }
        }

        return (output.WrittenSpan.ToArray(), reencoded.Count);
    }

    /// <summary>
    /// Whether the ONNX file in <paramref name="file"/> says in its metadata that it is a Bert.Sharp int8 export with uint8
    /// weights, read without reading its graph: only such a file is worth reading whole for <see cref="Reencode"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">Not a well-formed ONNX model.</exception>
    public static bool IsUnsignedWeightsExport(Stream file) =>
        IsUnsignedWeightsExport(ProtobufFields.ReadPayloads(file, ModelMetadata).Select(p => (ReadOnlyMemory<byte>)p));

    private static bool IsUnsignedWeightsExport(IEnumerable<ReadOnlyMemory<byte>> metadataEntries)
    {
        string? quantization = null, format = null;
        foreach (ReadOnlyMemory<byte> entry in metadataEntries)
        {
            ReadOnlySpan<byte> payload = entry.Span;
            string? key = null, value = null;
            foreach (Field part in ProtobufFields.Read(payload))
            {
                if (part.Number == EntryKey)
                {
                    key = ProtobufFields.String(payload, part);
                }
                else if (part.Number == EntryValue)
                {
                    value = ProtobufFields.String(payload, part);
                }
            }

            if (key == Int8KernelSupport.QuantizationKey)
            {
                quantization = value;
            }
            else if (key == Int8KernelSupport.Int8FormatKey)
            {
                format = value;
            }
        }

        return quantization == "dynamic_int8" && format == "unsigned_weights";
    }

    // The input index of the product weight of node when it is one of Products with a zero point of 128, else −1.
    private static int ProductWeightIndex(NodeInfo node, HashSet<string> zeroPoints) =>
        node.Domain == MicrosoftDomain && Products.TryGetValue(node.OpType, out var at) && node.Inputs.Count > at.ZeroPoint && zeroPoints.Contains(node.Inputs[at.ZeroPoint])
            ? at.Weight : -1;

    private static string ValueInfoName(ReadOnlySpan<byte> valueInfo)
    {
        string name = string.Empty;
        foreach (Field field in ProtobufFields.Read(valueInfo))
        {
            if (field.Number == ValueInfoNameField)
            {
                name = ProtobufFields.String(valueInfo, field);
            }
        }

        return name;
    }

    private static NodeInfo ReadNode(ReadOnlyMemory<byte> node)
    {
        ReadOnlySpan<byte> span = node.Span;
        var inputs = new List<string>();
        string opType = string.Empty, domain = string.Empty;
        foreach (Field field in ProtobufFields.Read(span))
        {
            switch (field.Number)
            {
                case NodeInput:
                    inputs.Add(ProtobufFields.String(span, field));
                    break;
                case NodeOpType:
                    opType = ProtobufFields.String(span, field);
                    break;
                case NodeDomain:
                    domain = ProtobufFields.String(span, field);
                    break;
            }
        }

        return new NodeInfo(inputs, opType, domain);
    }

    private static TensorInfo ReadTensor(ReadOnlyMemory<byte> tensor)
    {
        ReadOnlySpan<byte> span = tensor.Span;
        string name = string.Empty;
        int dataType = 0;
        bool hasDims = false, external = false;
        ReadOnlyMemory<byte>? raw = null;
        foreach (Field field in ProtobufFields.Read(span))
        {
            switch (field.Number)
            {
                case 1:
                    hasDims = true;
                    break;
                case TensorDataType:
                    dataType = (int)ProtobufFields.VarintValue(span, field);
                    break;
                case TensorName:
                    name = ProtobufFields.String(span, field);
                    break;
                case TensorRawData:
                    raw = field.Payload(tensor);
                    break;
                case TensorDataLocation:
                    external = ProtobufFields.VarintValue(span, field) != 0;
                    break;
            }
        }

        return new TensorInfo(name, dataType, hasDims, external ? null : raw, external);
    }

    // The node with its weight zero point input emptied (trailing empty inputs dropped): the weights are int8 now.
    private static byte[] WithoutZeroPoint(ReadOnlyMemory<byte> node, NodeInfo info)
    {
        string[] inputs = [.. info.Inputs];
        inputs[Products[info.OpType].ZeroPoint] = string.Empty;
        int count = inputs.Length;
        while (count > 0 && inputs[count - 1].Length == 0)
        {
            count--;
        }

        var output = new ArrayBufferWriter<byte>(node.Length);
        bool inputsWritten = false;
        foreach (Field field in ProtobufFields.Read(node.Span))
        {
            if (field.Number != NodeInput)
            {
                output.Write(field.Raw(node).Span);
            }
            else if (!inputsWritten)
            {
                foreach (string input in inputs.AsSpan(0, count))
                {
                    ProtobufFields.WriteString(output, NodeInput, input);
                }

                inputsWritten = true;
            }
        }

        return output.WrittenSpan.ToArray();
    }

    // The tensor as int8: data type INT8 and every byte b as b − 128; other fields as they were.
    private static byte[] AsSigned(ReadOnlyMemory<byte> tensor)
    {
        var output = new ArrayBufferWriter<byte>(tensor.Length);
        foreach (Field field in ProtobufFields.Read(tensor.Span))
        {
            if (field.Number == TensorDataType)
            {
                ProtobufFields.WriteVarintField(output, TensorDataType, Int8);
            }
            else if (field.Number == TensorRawData)
            {
                ReadOnlySpan<byte> unsigned = field.Payload(tensor).Span;
                byte[] signed = new byte[unsigned.Length];
                for (int i = 0; i < signed.Length; i++)
                {
                    signed[i] = unchecked((byte)(sbyte)(unsigned[i] - UnsignedZeroPoint));
                }

                ProtobufFields.WriteBytes(output, TensorRawData, signed);
            }
            else
            {
                output.Write(field.Raw(tensor).Span);
            }
        }

        return output.WrittenSpan.ToArray();
    }

    private sealed record NodeInfo(List<string> Inputs, string OpType, string Domain);

    private sealed record TensorInfo(string Name, int DataType, bool HasDims, ReadOnlyMemory<byte>? Raw, bool External);
}
