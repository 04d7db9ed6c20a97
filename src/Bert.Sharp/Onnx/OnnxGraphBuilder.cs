using System.Runtime.InteropServices;
using Bert.Sharp.Onnx.Proto;
using Google.Protobuf;

namespace Bert.Sharp.Onnx;

/// <summary>
/// Appends nodes, initializers, inputs and outputs to an ONNX <see cref="GraphProto"/> in topological order, with unique
/// value names. Knows which operators take their axes as an attribute or as an input at the target opset.
/// </summary>
internal sealed class OnnxGraphBuilder(int opset)
{
    /// <summary>The domain of ONNX Runtime's contrib operators (<c>DynamicQuantizeMatMul</c>, ...).</summary>
    public const string MicrosoftDomain = "com.microsoft";

    private readonly Dictionary<string, int> counters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> sharedConstants = new(StringComparer.Ordinal);

    /// <summary>The graph being built.</summary>
    public GraphProto Graph { get; } = new() { Name = "bert" };

    /// <summary>The default-domain opset the graph is written for.</summary>
    public int Opset { get; } = opset;

    /// <summary>Whether a com.microsoft operator was used (the model must then import that domain).</summary>
    public bool UsesMicrosoftDomain { get; private set; }

    /// <summary>A value name not used yet, built from <paramref name="hint"/>.</summary>
    public string Fresh(string hint)
    {
        int n = counters.GetValueOrDefault(hint);
        counters[hint] = n + 1;
        return n == 0 ? hint : $"{hint}_{n}";
    }

    /// <summary>Adds one node with one output and returns the output's name.</summary>
    public string Add(string opType, IReadOnlyList<string> inputs, string? output = null, string? domain = null, params AttributeProto[] attributes)
    {
        string result = output ?? Fresh($"/{opType}_output");
        AddMulti(opType, inputs, [result], domain, attributes);
        return result;
    }

    /// <summary>Adds one node with several outputs (names chosen by the caller).</summary>
    public void AddMulti(string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, string? domain = null, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = Fresh($"/{opType}") };
        node.Input.Add(inputs);
        node.Output.Add(outputs);
        node.Attribute.Add(attributes);
        if (domain is not null)
        {
            node.Domain = domain;
            UsesMicrosoftDomain |= domain == MicrosoftDomain;
        }

        Graph.Node.Add(node);
    }

    /// <summary>A float32 initializer (raw little-endian data).</summary>
    public string Floats(string name, ReadOnlySpan<float> values, params long[] dims) =>
        Initializer(name, TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(values), dims);

    /// <summary>A uint8 initializer.</summary>
    public string UInt8s(string name, ReadOnlySpan<byte> values, params long[] dims) =>
        Initializer(name, TensorProto.Types.DataType.Uint8, values, dims);

    /// <summary>An int8 initializer.</summary>
    public string Int8s(string name, ReadOnlySpan<sbyte> values, params long[] dims) =>
        Initializer(name, TensorProto.Types.DataType.Int8, MemoryMarshal.AsBytes(values), dims);

    /// <summary>An int64 constant (shared between users of the same value).</summary>
    public string Int64s(params long[] values) => Shared($"i64:{string.Join(',', values)}", () =>
        Initializer(Fresh("/const_int64"), TensorProto.Types.DataType.Int64, MemoryMarshal.AsBytes(values.AsSpan()), values.Length));

    /// <summary>A scalar int64 constant (rank 0).</summary>
    public string ScalarInt64(long value) => Shared($"i64s:{value}", () =>
        Initializer(Fresh("/const_int64"), TensorProto.Types.DataType.Int64, MemoryMarshal.AsBytes(new[] { value }.AsSpan())));

    /// <summary>A scalar float constant (rank 0).</summary>
    public string ScalarFloat(float value) => Shared($"f32s:{BitConverter.SingleToInt32Bits(value)}", () =>
        Initializer(Fresh("/const_float"), TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(new[] { value }.AsSpan())));

    /// <summary>A scalar uint8 constant (rank 0), such as the zero point of uint8 activations.</summary>
    public string ScalarUInt8(byte value) => Shared($"u8s:{value}", () =>
        Initializer(Fresh("/const_uint8"), TensorProto.Types.DataType.Uint8, new[] { value }));

    /// <summary>Declares a graph input of <paramref name="type"/> with named (dynamic) or fixed dimensions.</summary>
    public void Input(string name, TensorProto.Types.DataType type, params object[] dims) => Graph.Input.Add(ValueInfo(name, type, dims));

    /// <summary>Declares a graph output.</summary>
    public void Output(string name, TensorProto.Types.DataType type, params object[] dims) => Graph.Output.Add(ValueInfo(name, type, dims));

    /// <summary><c>Unsqueeze</c>: axes are an input since opset 13.</summary>
    public string Unsqueeze(string input, params long[] axes) => Add("Unsqueeze", [input, Int64s(axes)]);

    /// <summary>A reduction over <paramref name="axes"/>: <c>ReduceSum</c> takes axes as an input since opset 13, the others since 18.</summary>
    public string Reduce(string opType, string input, long[] axes, bool keepDims, string? output = null)
    {
        bool axesAsInput = opType == "ReduceSum" || Opset >= 18;
        AttributeProto keep = Int("keepdims", keepDims ? 1 : 0);
        return axesAsInput
            ? Add(opType, [input, Int64s(axes)], output, null, keep)
            : Add(opType, [input], output, null, keep, Ints("axes", axes));
    }

    /// <summary>An INT attribute.</summary>
    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>A FLOAT attribute.</summary>
    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>An INTS attribute.</summary>
    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.Add(values);
        return attribute;
    }

    /// <summary>A STRING attribute.</summary>
    public static AttributeProto String(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    private string Initializer(string name, TensorProto.Types.DataType type, ReadOnlySpan<byte> data, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(data) };
        tensor.Dims.Add(dims);
        Graph.Initializer.Add(tensor);
        return name;
    }

    private string Shared(string key, Func<string> create)
    {
        if (!sharedConstants.TryGetValue(key, out string? name))
        {
            sharedConstants[key] = name = create();
        }

        return name;
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (object dim in dims)
        {
            shape.Dim.Add(dim switch
            {
                string param => new TensorShapeProto.Types.Dimension { DimParam = param },
                int value => new TensorShapeProto.Types.Dimension { DimValue = value },
                long value => new TensorShapeProto.Types.Dimension { DimValue = value },
                _ => throw new ArgumentException($"Dimension {dim} is neither a name nor a size.", nameof(dims)),
            });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
