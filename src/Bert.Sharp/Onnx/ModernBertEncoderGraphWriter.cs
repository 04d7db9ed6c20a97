using Bert.Sharp.Modeling;
using Bert.Sharp.Onnx.Proto;
using static TorchSharp.torch;

namespace Bert.Sharp.Onnx;

/// <summary>
/// Writes ModernBERT's encoder as standard ONNX operators, computing what Hugging Face's <c>ModernBertModel</c> computes on
/// the padded batch (its eager / sdpa path; the unpadded FlashAttention path gives the same states at real tokens):
/// <c>tok_embeddings</c> + norm; per layer a pre-norm attention (no <c>attn_norm</c> in layer 0) with one packed
/// <c>Wqkv</c> projection, rotary position embeddings of the layer's base on queries and keys, padding masked and, in a local
/// layer, every key farther than <c>local_attention / 2</c> masked, softmax in float32, <c>Wo</c>; then a pre-norm gated
/// feed-forward (<c>Wi</c> split in half: <c>act(input) · gate</c>, <c>Wo</c>); <c>final_norm</c> last. Biases are written
/// where the config has them (<c>norm_bias</c>, <c>attention_bias</c>, <c>mlp_bias</c>).
/// </summary>
/// <remarks>
/// Masked scores get float32's lowest value added, as transformers' masks do, so a padding query whose window holds no real
/// key gets a finite (ignored) result instead of NaN. The rotary angles are computed in the graph from the same float32
/// inverse frequencies the TorchSharp model uses (<see cref="ModernBertAttention.InverseFrequencies"/>), so the file does not
/// grow with the context length.
/// </remarks>
internal sealed class ModernBertEncoderGraphWriter(OnnxGraphBuilder graph, OnnxExportSource source, OnnxLinearWriter linear)
{
    private readonly BertConfig config = source.Config;
    private readonly ModernBertSettings settings = ModernBertSettings.Read(source.Config);
    private readonly Dictionary<double, (string Cos, string Sin)> rotaryByTheta = [];

    /// <summary>Embeddings, every layer and the final norm; returns <paramref name="output"/>, the last hidden state.</summary>
    public string Encoder(string inputIds, string attentionMask, string output)
    {
        string key = source.Prefix + "embeddings.";
        string hidden = OnnxLayers.LayerNorm(graph, source, linear.Embedding(inputIds, key + "tok_embeddings.weight", config.VocabSize, config.HiddenSize), key + "norm", settings.NormBias);

        string length = graph.Add("Gather", [graph.Add("Shape", [inputIds]), graph.ScalarInt64(1)], null, null, OnnxGraphBuilder.Int("axis", 0));
        string positions = graph.Add("Range", [graph.ScalarInt64(0), length, graph.ScalarInt64(1)]);
        string realKeys = graph.Add("Cast", [graph.Unsqueeze(attentionMask, 1, 2)], null, null, OnnxGraphBuilder.Int("to", (long)TensorProto.Types.DataType.Bool));
        string globalMask = Additive(realKeys);
        string? localMask = null;
        for (int i = 0; i < config.NumHiddenLayers; i++)
        {
            string mask = globalMask;
            if (!settings.IsGlobal(i))
            {
                localMask ??= Additive(graph.Add("And", [realKeys, WithinWindow(positions)]));
                mask = localMask;
            }

            hidden = Layer(i, hidden, mask, Rotary(settings.RopeTheta(i), positions));
        }

        return OnnxLayers.LayerNorm(graph, source, hidden, source.Prefix + "final_norm", settings.NormBias, output);
    }

    private string Layer(int index, string input, string mask, (string Cos, string Sin) rotary)
    {
        int h = config.HiddenSize;
        int heads = config.NumAttentionHeads;
        int headSize = config.HeadSize;
        string key = $"{source.Prefix}{source.Family.LayerName(index)}.";

        // h = x + Wo(attention(attn_norm(x))), attn_norm being the identity in layer 0.
        string normed = index == 0 ? input : OnnxLayers.LayerNorm(graph, source, input, key + "attn_norm", settings.NormBias);
        string qkv = linear.Linear(normed, key + "attn.Wqkv", h, 3 * h, hasBias: settings.AttentionBias);
        string[] parts = [graph.Fresh("/attn/query"), graph.Fresh("/attn/key"), graph.Fresh("/attn/value")];
        graph.AddMulti("Split", [qkv, graph.Int64s(h, h, h)], parts, null, OnnxGraphBuilder.Int("axis", -1));
        string query = Rotate(Heads(parts[0]), rotary);
        string keys = Rotate(Heads(parts[1]), rotary);
        string value = Heads(parts[2]);
        string scores = graph.Add("Mul", [graph.Add("MatMul", [query, graph.Add("Transpose", [keys], null, null, OnnxGraphBuilder.Ints("perm", 0, 1, 3, 2))]), graph.ScalarFloat(1f / MathF.Sqrt(headSize))]);
        string probabilities = graph.Add("Softmax", [graph.Add("Add", [scores, mask])], null, null, OnnxGraphBuilder.Int("axis", -1));
        string context = graph.Add("Transpose", [graph.Add("MatMul", [probabilities, value])], null, null, OnnxGraphBuilder.Ints("perm", 0, 2, 1, 3));
        string attended = linear.Linear(graph.Add("Reshape", [context, graph.Int64s(0, 0, h)]), key + "attn.Wo", h, h, hasBias: settings.AttentionBias);
        string afterAttention = graph.Add("Add", [input, attended]);

        // h + Wo(act(input) · gate), input and gate the two halves of Wi(mlp_norm(h)).
        int inner = config.IntermediateSize;
        string widened = linear.Linear(OnnxLayers.LayerNorm(graph, source, afterAttention, key + "mlp_norm", settings.NormBias), key + "mlp.Wi", h, 2 * inner, hasBias: settings.MlpBias);
        string[] halves = [graph.Fresh("/mlp/input"), graph.Fresh("/mlp/gate")];
        graph.AddMulti("Split", [widened, graph.Int64s(inner, inner)], halves, null, OnnxGraphBuilder.Int("axis", -1));
        string gated = graph.Add("Mul", [OnnxLayers.Activation(graph, source, halves[0], config.HiddenAct), halves[1]]);
        return graph.Add("Add", [afterAttention, linear.Linear(gated, key + "mlp.Wo", inner, h, hasBias: settings.MlpBias)]);

        // [batch, seq, hidden] → [batch, heads, seq, head_size].
        string Heads(string x) => graph.Add("Transpose", [graph.Add("Reshape", [x, graph.Int64s(0, 0, heads, headSize)])], null, null, OnnxGraphBuilder.Ints("perm", 0, 2, 1, 3));
    }

    // x·cos + rotate_half(x)·sin, rotate_half(x) = [−x₂, x₁] for the halves x₁, x₂ of the last axis.
    private string Rotate(string x, (string Cos, string Sin) rotary)
    {
        int half = config.HeadSize / 2;
        string[] halves = [graph.Fresh("/rotary/first_half"), graph.Fresh("/rotary/second_half")];
        graph.AddMulti("Split", [x, graph.Int64s(half, half)], halves, null, OnnxGraphBuilder.Int("axis", -1));
        string rotated = graph.Add("Concat", [graph.Add("Neg", [halves[1]]), halves[0]], null, null, OnnxGraphBuilder.Int("axis", -1));
        return graph.Add("Add", [graph.Add("Mul", [x, rotary.Cos]), graph.Add("Mul", [rotated, rotary.Sin])]);
    }

    // cos and sin [seq, head_size] of the angles position × inverse frequency, the half repeated; one pair per base.
    private (string Cos, string Sin) Rotary(double theta, string positions)
    {
        if (rotaryByTheta.TryGetValue(theta, out (string Cos, string Sin) cached))
        {
            return cached;
        }

        float[] inverse;
        using (Tensor frequencies = ModernBertAttention.InverseFrequencies(theta, config.HeadSize, CPU))
        {
            inverse = Runtime.HostRead.Values<float>(frequencies);
        }

        string frequencyName = graph.Floats(graph.Fresh("/rotary/inverse_frequencies"), inverse, inverse.Length);
        string asFloat = graph.Add("Cast", [positions], null, null, OnnxGraphBuilder.Int("to", OnnxTensorData.Float));
        string angles = graph.Add("Mul", [graph.Unsqueeze(asFloat, 1), frequencyName]);
        string full = graph.Add("Concat", [angles, angles], null, null, OnnxGraphBuilder.Int("axis", -1));
        return rotaryByTheta[theta] = (graph.Add("Cos", [full]), graph.Add("Sin", [full]));
    }

    // [seq, seq]: whether key j is within local_attention / 2 positions of query i.
    private string WithinWindow(string positions)
    {
        string distance = graph.Add("Abs", [graph.Add("Sub", [graph.Unsqueeze(positions, 0), graph.Unsqueeze(positions, 1)])]);
        return graph.Add("LessOrEqual", [distance, graph.ScalarInt64(settings.LocalAttention / 2)]);
    }

    // 0 where allowed, float32's lowest value elsewhere.
    private string Additive(string allowed) => graph.Add("Where", [allowed, graph.ScalarFloat(0f), graph.ScalarFloat(float.MinValue)]);
}
