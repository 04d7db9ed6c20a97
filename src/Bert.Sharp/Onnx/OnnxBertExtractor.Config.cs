using System.Globalization;
using Bert.Sharp.Onnx.Proto;
using static TorchSharp.torch;

namespace Bert.Sharp.Onnx;

// Inferring the config from the graph: layers and sizes from the weights' shapes, heads from the Reshape constants or the
// attention scale, epsilon from the LayerNorms, the activation from its operators.
internal sealed partial class OnnxBertExtractor
{
    private BertConfig InferConfig(Dictionary<string, Tensor> state)
    {
        long[] words = Require(state, "embeddings.word_embeddings.weight").shape;
        int hidden = (int)words[1];
        int layers = CountLayers(state);
        int intermediate = (int)Require(state, "encoder.layer.0.intermediate.dense.bias").shape[0];
        int heads = InferHeads(hidden);
        double eps = InferEpsilon();
        string activation = InferActivation();
        var config = new BertConfig
        {
            VocabSize = (int)words[0],
            HiddenSize = hidden,
            NumHiddenLayers = layers,
            NumAttentionHeads = heads,
            IntermediateSize = intermediate,
            MaxPositionEmbeddings = (int)Require(state, "embeddings.position_embeddings.weight").shape[0],
            TypeVocabSize = (int)Require(state, "embeddings.token_type_embeddings.weight").shape[0],
            LayerNormEps = eps,
            HiddenAct = activation,
            Architectures = [nameof(BertModel)],
        };
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{source}': the inferred config is invalid: {e.Message}", e);
        }

        LogInferred(logger, source, layers, hidden, heads, intermediate, activation, eps);
        return config;
    }

    private int CountLayers(Dictionary<string, Tensor> state)
    {
        var indices = state.Keys
            .Select(k => LayerIndex().Match(k))
            .Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))
            .Distinct()
            .Order()
            .ToList();
        if (indices.Count == 0)
        {
            throw new InvalidDataException($"'{source}' is not a BERT export: no 'encoder.layer.N.*' parameters were found.");
        }

        if (indices[0] != 0 || indices[^1] != indices.Count - 1)
        {
            throw new InvalidDataException($"'{source}': encoder layers are not numbered 0..{indices.Count - 1} (found {string.Join(", ", indices)}).");
        }

        return indices.Count;
    }

    // Heads from the Reshape that splits a projection into [batch, seq, heads, head_size]; else from the score scale.
    private int InferHeads(int hidden)
    {
        if (graph.Node.FirstOrDefault(n => n.OpType == "Attention") is { } fused && Attribute(fused, "num_heads") is { I: > 0 } numHeads)
        {
            return (int)numHeads.I;
        }

        foreach (NodeProto reshape in graph.Node.Where(n => n.OpType == "Reshape" && n.Input.Count == 2))
        {
            long[]? shape = ConstantShape(reshape.Input[1]);
            if (shape is { Length: 4 } && shape[2] > 0 && shape[3] > 0 && shape[2] * shape[3] == hidden)
            {
                return (int)shape[2];
            }
        }

        // Scores = MatMul(Q, K^T) / sqrt(head_size), or * 1/sqrt(head_size).
        foreach (NodeProto scale in graph.Node.Where(n => n.OpType is "Div" or "Mul" && n.Input.Count == 2))
        {
            if (Producer(scale.Input[0]) is { OpType: "MatMul" } scores && !scores.Input.Any(constants.ContainsKey)
                && ScalarConstant(scale.Input[1]) is double factor && factor > 0)
            {
                double headSize = scale.OpType == "Div" ? factor * factor : 1 / (factor * factor);
                int rounded = (int)Math.Round(headSize);
                if (rounded > 0 && Math.Abs(headSize - rounded) < 1e-2 && hidden % rounded == 0)
                {
                    return hidden / rounded;
                }
            }
        }

        throw new InvalidDataException($"'{source}': the number of attention heads was not found (no Reshape to [batch, seq, heads, head_size] with constant heads, and no attention score scale).");
    }

    private double InferEpsilon()
    {
        foreach (NodeProto node in graph.Node)
        {
            if (node.OpType is "LayerNormalization" or "SkipLayerNormalization")
            {
                return Attribute(node, "epsilon") is { } eps ? eps.F : 1e-5;
            }

            // Decomposed LayerNorm: Sqrt(ReduceMean(x^2) + eps).
            if (node.OpType == "Add" && node.Input.Count == 2 && Producer(node.Input[0]) is { OpType: "ReduceMean" }
                && consumers.TryGetValue(node.Output[0], out List<NodeProto>? users) && users.Any(u => u.OpType == "Sqrt")
                && ScalarConstant(node.Input[1]) is double decomposed)
            {
                return decomposed;
            }
        }

        LogDefaultEpsilon(logger, source);
        return 1e-12;
    }

    private string InferActivation()
    {
        var ops = graph.Node.Select(n => n.OpType).ToHashSet(StringComparer.Ordinal);
        if (ops.Contains("Erf"))
        {
            return "gelu";
        }

        NodeProto? gelu = graph.Node.FirstOrDefault(n => n.OpType is "Gelu" or "BiasGelu" or "FastGelu");
        if (gelu is not null)
        {
            bool tanh = gelu.OpType == "FastGelu" || (Attribute(gelu, "approximate") is { } a && a.S.ToStringUtf8() == "tanh");
            return tanh ? "gelu_new" : "gelu";
        }

        // gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
        bool hasGeluTanhConstant = constants.Values.Any(c => c.ElementCount(source) == 1 && c.DataType == OnnxTensorData.Float && Math.Abs(c.ToFloats(source)[0] - 0.044715f) < 1e-6);
        if (ops.Contains("Tanh") && hasGeluTanhConstant)
        {
            return "gelu_new";
        }

        if (ops.Contains("Relu"))
        {
            return "relu";
        }

        if (ops.Contains("Sigmoid"))
        {
            return "silu";
        }

        throw new InvalidDataException($"'{source}': the feed-forward activation was not recognised (looked for Erf, Gelu, the tanh approximation, Relu, Sigmoid).");
    }
}
