using Bert.Sharp.Onnx.Proto;
using static TorchSharp.torch;

namespace Bert.Sharp.Onnx;

// Tracing weights through ONNX Runtime's fused operators, as OnnxExporter writes them by default.
internal sealed partial class OnnxBertExtractor
{
    // Follows the MatMul's output to the node that adds a named bias: Add, or ONNX Runtime's fused operators that take the
    // bias as an input (BiasGelu/FastGelu: input 1; SkipLayerNormalization: input 4).
    private string? FindBiasAdd(string value)
    {
        if (!consumers.TryGetValue(value, out List<NodeProto>? users))
        {
            return null;
        }

        foreach (NodeProto user in users)
        {
            string? other = user.OpType switch
            {
                "Add" when user.Input.Count == 2 => user.Input[0] == value ? user.Input[1] : user.Input[0],
                "BiasGelu" or "FastGelu" when user.Input.Count >= 2 && user.Input[0] == value => user.Input[1],
                "SkipLayerNormalization" when user.Input.Count >= 5 && user.Input[0] == value => user.Input[4],
                _ => null,
            };
            if (other is not null && HuggingFaceKey(other) is string key && key.EndsWith(".bias", StringComparison.Ordinal) && !key.Contains("LayerNorm", StringComparison.Ordinal))
            {
                return key;
            }
        }

        return null;
    }

    // ONNX Runtime's Attention packs the query, key and value projections as weight [hidden, 3·hidden] and bias [3·hidden];
    // OnnxExporter names the bias "packed/{module}.qkv.bias", which gives back the three modules' keys.
    private void CollectPackedAttentionWeights(Dictionary<string, Tensor> state)
    {
        foreach (NodeProto node in graph.Node.Where(n => n.OpType == "Attention" && n.Input.Count >= 3))
        {
            string biasName = node.Input[2];
            if (!biasName.StartsWith("packed/", StringComparison.Ordinal) || !biasName.EndsWith(".qkv.bias", StringComparison.Ordinal)
                || HuggingFaceKey(biasName["packed/".Length..^".qkv.bias".Length]) is not string module
                || !constants.TryGetValue(node.Input[1], out TensorProto? weight) || !constants.TryGetValue(biasName, out TensorProto? bias))
            {
                throw new InvalidDataException($"'{source}': Attention node '{node.Name}' does not name its packed weights as OnnxExporter does ('packed/<module>.qkv.bias'); only Bert.Sharp's own fused exports can be imported.");
            }

            if (weight.Dims.Count != 2 || bias.Dims.Count != 1 || weight.Dims[1] != bias.Dims[0] || bias.Dims[0] % 3 != 0 || weight.Dims[0] * 3 != weight.Dims[1])
            {
                throw new InvalidDataException($"'{source}': Attention node '{node.Name}' has packed weight {weight.ShapeText()} and bias {bias.ShapeText()}, not [hidden, 3·hidden] and [3·hidden].");
            }

            using Tensor packedWeight = weight.ToTensor(source);
            using Tensor packedBias = bias.ToTensor(source);
            long hidden = weight.Dims[0];
            string[] parts = ["query", "key", "value"];
            for (int p = 0; p < 3; p++)
            {
                // The views held by a using, not left to the finalizer while the copy reads them (Runtime.TensorCopy).
                using Tensor columns = packedWeight.narrow(1, p * hidden, hidden);
                using Tensor biasPart = packedBias.narrow(0, p * hidden, hidden);
                state[$"{module}.{parts[p]}.weight"] = Runtime.TensorCopy.Transposed(columns);
                state[$"{module}.{parts[p]}.bias"] = biasPart.clone();
            }
        }
    }
}
