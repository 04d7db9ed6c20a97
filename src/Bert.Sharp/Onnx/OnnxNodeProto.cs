namespace Bert.Sharp.Onnx;

/// <summary>An ONNX <c>NodeProto</c>: one operator with its input and output value names and attributes.</summary>
internal sealed class OnnxNodeProto
{
    public string Name { get; set; } = string.Empty;

    public string OpType { get; set; } = string.Empty;

    public string Domain { get; set; } = string.Empty;

    public List<string> Inputs { get; } = [];

    public List<string> Outputs { get; } = [];

    public Dictionary<string, OnnxAttributeProto> Attributes { get; } = new(StringComparer.Ordinal);

    public override string ToString() => $"{OpType}({string.Join(", ", Inputs)}) -> {string.Join(", ", Outputs)}";
}

/// <summary>An ONNX <c>AttributeProto</c>; only the kinds BERT exports use are kept.</summary>
internal sealed class OnnxAttributeProto
{
    public string Name { get; set; } = string.Empty;

    public float? F { get; set; }

    public long? I { get; set; }

    public string? S { get; set; }

    public OnnxTensorProto? T { get; set; }

    public List<long> Ints { get; } = [];

    public List<float> Floats { get; } = [];
}
