using Bert.Sharp.Onnx.Proto;

namespace Bert.Sharp.Onnx;

/// <summary>
/// The small layer shapes every graph writer needs: a layer norm read from the checkpoint (with or without its bias) and the
/// activations of <c>hidden_act</c>, written as PyTorch's exporter writes them (ONNX Runtime fuses both GELUs).
/// </summary>
internal static class OnnxLayers
{
    /// <summary><c>LayerNormalization</c> over the last axis with <c>{key}.weight</c> and, when <paramref name="hasBias"/>, <c>{key}.bias</c>.</summary>
    public static string LayerNorm(OnnxGraphBuilder graph, OnnxExportSource source, string x, string key, bool hasBias = true, string? output = null)
    {
        int h = source.Config.HiddenSize;
        string gamma = graph.Floats(key + ".weight", source.Weight(key + ".weight", h), h);
        string[] inputs = hasBias ? [x, gamma, graph.Floats(key + ".bias", source.Weight(key + ".bias", h), h)] : [x, gamma];
        return graph.Add("LayerNormalization", inputs, output, null, OnnxGraphBuilder.Int("axis", -1), OnnxGraphBuilder.Float("epsilon", (float)source.Config.LayerNormEps));
    }

    /// <summary>The activation <paramref name="name"/> (a <c>hidden_act</c> value) of <paramref name="x"/>.</summary>
    /// <exception cref="NotSupportedException">An activation the exporter does not write; the message names the folder.</exception>
    public static string Activation(OnnxGraphBuilder graph, OnnxExportSource source, string x, string name)
    {
        switch (name)
        {
            case "gelu":
                // x * 0.5 * (1 + erf(x / sqrt(2)))
                string erf = graph.Add("Erf", [graph.Add("Div", [x, graph.ScalarFloat(MathF.Sqrt(2f))])]);
                string onePlus = graph.Add("Add", [erf, graph.ScalarFloat(1f)]);
                return graph.Add("Mul", [graph.Add("Mul", [x, onePlus]), graph.ScalarFloat(0.5f)]);
            case "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast":
                // x * 0.5 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
                string cube = graph.Add("Mul", [graph.Add("Pow", [x, graph.ScalarFloat(3f)]), graph.ScalarFloat(0.044715f)]);
                string inner = graph.Add("Mul", [graph.Add("Add", [x, cube]), graph.ScalarFloat(0.7978845608028654f)]);
                string tanhPlus = graph.Add("Add", [graph.Add("Tanh", [inner]), graph.ScalarFloat(1f)]);
                return graph.Add("Mul", [graph.Add("Mul", [x, graph.ScalarFloat(0.5f)]), tanhPlus]);
            case "relu":
                return graph.Add("Relu", [x]);
            case "silu" or "swish":
                return graph.Add("Mul", [x, graph.Add("Sigmoid", [x])]);
            default:
                throw new NotSupportedException($"'{source.Directory}': activation '{name}' is not supported by the ONNX exporter.");
        }
    }

    /// <summary>The integer attention mask [batch, seq] as float32 [batch, 1, 1, seq]: 1 for a key that may be seen.</summary>
    public static string KeyMask(OnnxGraphBuilder graph, string attentionMask) =>
        graph.Add("Cast", [graph.Unsqueeze(graph.Unsqueeze(attentionMask, 1), 2)], null, null, OnnxGraphBuilder.Int("to", (long)TensorProto.Types.DataType.Float));
}
