namespace Bert.Sharp.Onnx;

/// <summary>An ONNX <c>GraphProto</c>: nodes in topological order, initializers, and the graph's input and output names.</summary>
internal sealed class OnnxGraphProto
{
    public List<OnnxNodeProto> Nodes { get; } = [];

    public Dictionary<string, OnnxTensorProto> Initializers { get; } = new(StringComparer.Ordinal);

    public List<string> Inputs { get; } = [];

    public List<string> Outputs { get; } = [];
}
