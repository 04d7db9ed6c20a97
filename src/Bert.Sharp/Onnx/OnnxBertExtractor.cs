using System.Globalization;
using System.Text.RegularExpressions;
using Bert.Sharp.Onnx.Proto;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Bert.Sharp.Onnx;

/// <summary>
/// Recovers a Hugging Face BERT state dict and config from the graph of a <c>torch.onnx</c> export: named initializers
/// keep their names; anonymous MatMul weights (stored transposed, [in, out]) are traced to the Add of their named bias
/// and transposed back; the architecture is read from shapes, Reshape constants, the attention scale, LayerNorm epsilons
/// and the activation's operators.
/// </summary>
internal sealed partial class OnnxBertExtractor
{
    private readonly GraphProto graph;
    private readonly string source;
    private readonly ILogger logger;
    private readonly Dictionary<string, TensorProto> initializers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorProto> constants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<NodeProto>> consumers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NodeProto> producers = new(StringComparer.Ordinal);

    public OnnxBertExtractor(GraphProto graph, string source, ILogger logger)
    {
        this.graph = graph;
        this.source = source;
        this.logger = logger;
        foreach (TensorProto tensor in graph.Initializer)
        {
            initializers[tensor.Name] = tensor;
            constants[tensor.Name] = tensor;
        }

        foreach (NodeProto node in graph.Node)
        {
            if (node.OpType == "Constant" && node.Output.Count == 1 && ConstantValue(node) is TensorProto value)
            {
                constants[node.Output[0]] = value;
            }

            foreach (string output in node.Output)
            {
                producers[output] = node;
            }

            foreach (string input in node.Input)
            {
                if (!consumers.TryGetValue(input, out List<NodeProto>? list))
                {
                    consumers[input] = list = [];
                }

                list.Add(node);
            }
        }
    }

    /// <summary>The weights by Hugging Face key (float32 CPU tensors owned by the caller) and the inferred config.</summary>
    public (Dictionary<string, Tensor> State, BertConfig Config) Extract(CancellationToken cancellationToken)
    {
        if (graph.Node.FirstOrDefault(n => n.OpType is "DynamicQuantizeMatMul" or "QAttention" or "MatMulInteger" or "MatMulIntegerToFloat" or "DynamicQuantizeLinear" or "MatMulNBits") is { } quantized)
        {
            throw new InvalidDataException($"'{source}' is a quantized (int8) export (it has a {quantized.OpType} node); its weights cannot be recovered exactly. Import the float32 export instead.");
        }

        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            CollectNamedParameters(state, cancellationToken);
            CollectPackedAttentionWeights(state);
            if (!state.ContainsKey("embeddings.word_embeddings.weight"))
            {
                throw new InvalidDataException($"'{source}' is not a BERT export: no initializer named 'embeddings.word_embeddings.weight' (or 'bert.embeddings.word_embeddings.weight') was found among its {initializers.Count} initializers.");
            }

            CollectTracedWeights(state, cancellationToken);
            BertConfig config = InferConfig(state);
            return (state, config);
        }
        catch
        {
            foreach (Tensor t in state.Values)
            {
                t.Dispose();
            }

            throw;
        }
    }

    private void CollectNamedParameters(Dictionary<string, Tensor> state, CancellationToken cancellationToken)
    {
        foreach ((string name, TensorProto tensor) in initializers)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string? key = HuggingFaceKey(name);
            if (key is null || tensor.DataType is OnnxTensorData.Int64 or OnnxTensorData.Int32)
            {
                continue;
            }

            if (!state.TryAdd(key, tensor.ToTensor(source)))
            {
                throw new InvalidDataException($"'{source}': parameter '{key}' appears twice (as '{name}').");
            }
        }
    }

    // Linear layers exported with constant folding: MatMul(x, W[in, out]) followed by Add(bias) (or Gemm).
    private void CollectTracedWeights(Dictionary<string, Tensor> state, CancellationToken cancellationToken)
    {
        foreach (NodeProto node in graph.Node)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (node.OpType == "MatMul" && node.Input.Count == 2 && node.Output.Count == 1
                && constants.TryGetValue(node.Input[1], out TensorProto? weight) && weight.Dims.Count == 2
                && HuggingFaceKey(node.Input[1]) is null)
            {
                string? biasKey = FindBiasAdd(node.Output[0]);
                if (biasKey is null)
                {
                    continue;
                }

                AddWeight(state, biasKey, weight, transposed: true);
            }
            else if (node.OpType == "Gemm" && node.Input.Count == 3 && HuggingFaceKey(node.Input[2]) is string gemmBias
                && constants.TryGetValue(node.Input[1], out TensorProto? gemmWeight) && gemmWeight.Dims.Count == 2)
            {
                bool transB = Attribute(node, "transB") is { } t && t.I == 1;
                string weightKey = WeightKeyOf(gemmBias);
                if (HuggingFaceKey(node.Input[1]) is not null)
                {
                    // A named weight is the PyTorch parameter, [out, in]; Gemm reads it with transB = 1.
                    if (!transB && state.Remove(weightKey, out Tensor? named))
                    {
                        state[weightKey] = Runtime.TensorCopy.Transposed(named);
                        named.Dispose();
                    }

                    continue;
                }

                AddWeight(state, gemmBias, gemmWeight, transposed: !transB);
            }
        }
    }

    private void AddWeight(Dictionary<string, Tensor> state, string biasKey, TensorProto weight, bool transposed)
    {
        string weightKey = WeightKeyOf(biasKey);
        if (state.ContainsKey(weightKey))
        {
            return;
        }

        long outFeatures = transposed ? weight.Dims[1] : weight.Dims[0];
        if (state.TryGetValue(biasKey, out Tensor? bias) && bias.shape[0] != outFeatures)
        {
            throw new InvalidDataException($"'{source}': the weight traced to '{biasKey}' has shape {weight.ShapeText()}, which does not fit a bias of {bias.shape[0]}.");
        }

        using Tensor raw = weight.ToTensor(source);
        state[weightKey] = transposed ? Runtime.TensorCopy.Transposed(raw) : raw.clone();
    }

    private long[]? ConstantShape(string value)
    {
        if (constants.TryGetValue(value, out TensorProto? constant))
        {
            return constant.ToInt64s(source);
        }

        NodeProto? producer = Producer(value);
        if (producer is { OpType: "Concat" })
        {
            var parts = new List<long>();
            foreach (string input in producer.Input)
            {
                // Dynamic dimensions (batch, sequence) come from Shape/Gather/Unsqueeze; mark them unknown.
                parts.AddRange(constants.TryGetValue(input, out TensorProto? part) ? part.ToInt64s(source) : [-1]);
            }

            return parts.ToArray();
        }

        return null;
    }

    private double? ScalarConstant(string value) =>
        constants.TryGetValue(value, out TensorProto? c) && c.ElementCount(source) == 1 && c.DataType is OnnxTensorData.Float or OnnxTensorData.Double or OnnxTensorData.Float16
            ? c.ToFloats(source)[0]
            : null;

    private NodeProto? Producer(string value) => producers.GetValueOrDefault(value);

    private Tensor Require(Dictionary<string, Tensor> state, string key) =>
        state.TryGetValue(key, out Tensor? tensor)
            ? tensor
            : throw new InvalidDataException($"'{source}' is not a complete BERT export: parameter '{key}' was not found.");

    private static TensorProto? ConstantValue(NodeProto node)
    {
        foreach (AttributeProto attribute in node.Attribute)
        {
            switch (attribute.Name)
            {
                case "value" when attribute.T is not null:
                    return attribute.T;
                case "value_float":
                    return Scalar(OnnxTensorData.Float, floats: [attribute.F]);
                case "value_int":
                    return Scalar(OnnxTensorData.Int64, ints: [attribute.I]);
                case "value_ints":
                    TensorProto ints = Scalar(OnnxTensorData.Int64, ints: attribute.Ints);
                    ints.Dims.Add(attribute.Ints.Count);
                    return ints;
                case "value_floats":
                    TensorProto floats = Scalar(OnnxTensorData.Float, floats: attribute.Floats);
                    floats.Dims.Add(attribute.Floats.Count);
                    return floats;
            }
        }

        return null;
    }

    private static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    private static TensorProto Scalar(int dataType, IEnumerable<float>? floats = null, IEnumerable<long>? ints = null)
    {
        var tensor = new TensorProto { DataType = dataType };
        tensor.FloatData.AddRange(floats ?? []);
        tensor.Int64Data.AddRange(ints ?? []);
        return tensor;
    }

    // Names of BERT parameters, with or without the "bert." prefix of task models.
    internal static string? HuggingFaceKey(string name)
    {
        string key = name.StartsWith("bert.", StringComparison.Ordinal) ? name["bert.".Length..] : name;
        return key.StartsWith("embeddings.", StringComparison.Ordinal) || key.StartsWith("encoder.layer.", StringComparison.Ordinal) || key.StartsWith("pooler.", StringComparison.Ordinal)
            ? key
            : null;
    }

    private static string WeightKeyOf(string biasKey) => biasKey[..^".bias".Length] + ".weight";

    [GeneratedRegex(@"^encoder\.layer\.(\d+)\.")]
    private static partial Regex LayerIndex();

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Imported '{Source}': {Layers} layers, hidden {Hidden}, {Heads} heads, intermediate {Intermediate}, {Activation}, layer_norm_eps {Eps}")]
    private static partial void LogInferred(ILogger logger, string source, int layers, int hidden, int heads, int intermediate, string activation, double eps);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "'{Source}': no LayerNorm epsilon found in the graph; using 1e-12")]
    private static partial void LogDefaultEpsilon(ILogger logger, string source);
}
