using Bert.Sharp.Onnx.Proto;

namespace Bert.Sharp.Onnx;

/// <summary>
/// Writes the BERT encoder as ONNX nodes in the shape <c>torch.onnx.export</c> gives Hugging Face's BERT, which is the
/// shape ONNX Runtime's graph optimizer recognises: MatMul + Add per linear layer, [0, 0, heads, head_size] Reshapes,
/// Q·Kᵀ / √d + (1 − mask)·−10000, Softmax(axis 3), the erf GELU, and LayerNormalization (opset 17) — so ORT fuses
/// Attention, SkipLayerNormalization, EmbedLayerNormalization and (Bias)Gelu at load time.
/// </summary>
/// <remarks>
/// ONNX Runtime's optimizer fuses that shape only partly when the sequence axis is dynamic (its SkipLayerNormalization
/// fusion wants a fixed sequence length, its Attention fusion the opset-11 mask path), so by default the layers are
/// written with ONNX Runtime's fused operators directly (<see cref="OnnxExportOptions.UseOnnxRuntimeOperators"/>):
/// <c>Attention</c> (int8: <c>QAttention</c>), <c>SkipLayerNormalization</c> and <c>BiasGelu</c>/<c>FastGelu</c>.
/// </remarks>
internal sealed class BertEncoderGraphWriter(OnnxGraphBuilder graph, OnnxExportSource source, OnnxLinearWriter linear, bool fused)
{
    /// <summary>The masked-score constant of the attention pattern ORT fuses.</summary>
    private const float MaskedScore = -10000f;

    private readonly BertConfig config = source.Config;
    private readonly string prefix = source.Prefix;
    private readonly EncoderLayerNames names = EncoderLayerNames.Of(source.Family);

    /// <summary>Embeddings, then every encoder layer; returns the value name of the last hidden state.</summary>
    public string Encoder(string inputIds, string attentionMask, string? tokenTypeIds, string output)
    {
        string hidden = Embeddings(inputIds, tokenTypeIds);
        string mask = fused
            ? graph.Add("Cast", [attentionMask], null, null, OnnxGraphBuilder.Int("to", (long)TensorProto.Types.DataType.Int32))
            : AttentionMask(attentionMask);
        for (int i = 0; i < config.NumHiddenLayers; i++)
        {
            string? layerOutput = i == config.NumHiddenLayers - 1 ? output : null;
            hidden = fused ? FusedLayer(i, hidden, mask, layerOutput) : Layer(i, hidden, mask, layerOutput);
        }

        return hidden;
    }

    /// <summary>The pooler: dense + tanh over the [CLS] state.</summary>
    public string Pooler(string hidden, string? output = null)
    {
        string cls = graph.Add("Gather", [hidden, graph.ScalarInt64(0)], null, null, OnnxGraphBuilder.Int("axis", 1));
        string dense = linear.Linear(cls, prefix + "pooler.dense", config.HiddenSize, config.HiddenSize, tokens: false);
        return graph.Add("Tanh", [dense], output);
    }

    private string Embeddings(string inputIds, string? tokenTypeIds)
    {
        int h = config.HiddenSize;
        string key = prefix + "embeddings.";
        string words = linear.Embedding(inputIds, key + "word_embeddings.weight", config.VocabSize, h);

        string positionIds;
        if (source.Family.Positions == PositionNumbering.AfterPadding)
        {
            // RoBERTa's create_position_ids_from_input_ids: mask = ids != padding_idx; cumsum(mask) * mask + padding_idx,
            // so real tokens count from padding_idx + 1 and padding sits at padding_idx.
            string padding = graph.ScalarInt64(config.PadTokenId);
            string real = graph.Add("Cast", [graph.Add("Not", [graph.Add("Equal", [inputIds, padding])])], null, null, OnnxGraphBuilder.Int("to", (long)TensorProto.Types.DataType.Int64));
            string counted = graph.Add("Mul", [graph.Add("CumSum", [real, graph.ScalarInt64(1)]), real]);
            positionIds = graph.Add("Add", [counted, padding]);
        }
        else
        {
            // position_ids = arange(seq).unsqueeze(0).expand(batch, seq), as traced from Hugging Face's BertEmbeddings.
            string shape = graph.Add("Shape", [inputIds]);
            string length = graph.Add("Gather", [shape, graph.ScalarInt64(1)], null, null, OnnxGraphBuilder.Int("axis", 0));
            string range = graph.Add("Range", [graph.ScalarInt64(0), length, graph.ScalarInt64(1)]);
            positionIds = graph.Add("Expand", [graph.Unsqueeze(range, 0), shape]);
        }

        string positions = graph.Add("Gather", [graph.Floats(key + "position_embeddings.weight", source.Weight(key + "position_embeddings.weight", config.MaxPositionEmbeddings, h), config.MaxPositionEmbeddings, h), positionIds]);
        string sum = graph.Add("Add", [words, positions]);
        if (source.Family.HasTokenTypes)
        {
            float[] table = source.Weight(key + "token_type_embeddings.weight", config.TypeVocabSize, h);
            string types = tokenTypeIds is not null
                ? graph.Add("Gather", [graph.Floats(key + "token_type_embeddings.weight", table, config.TypeVocabSize, h), tokenTypeIds])
                : graph.Floats(key + "token_type_embeddings.weight[0]", table.AsSpan(0, h), h); // token type 0 everywhere (no token_type_ids input)
            sum = graph.Add("Add", [sum, types]);
        }

        return LayerNorm(sum, key + "LayerNorm");
    }

    // (1 - mask[:, None, None, :]) * -10000, shared by every layer.
    private string AttentionMask(string attentionMask)
    {
        string inverted = graph.Add("Sub", [graph.ScalarFloat(1f), OnnxLayers.KeyMask(graph, attentionMask)]);
        return graph.Add("Mul", [inverted, graph.ScalarFloat(MaskedScore)]);
    }

    private string Layer(int index, string input, string additiveMask, string? output)
    {
        int h = config.HiddenSize;
        int heads = config.NumAttentionHeads;
        int headSize = config.HeadSize;
        string key = $"{prefix}{source.Family.EncoderAttribute}.layer.{index}.";

        string query = SplitHeads(linear.Linear(input, key + names.SelfAttention + "." + names.Projections[0], h, h), keyLayout: false);
        string keyT = SplitHeads(linear.Linear(input, key + names.SelfAttention + "." + names.Projections[1], h, h), keyLayout: true);
        string value = SplitHeads(linear.Linear(input, key + names.SelfAttention + "." + names.Projections[2], h, h), keyLayout: false);
        string scores = graph.Add("Div", [graph.Add("MatMul", [query, keyT]), graph.ScalarFloat(MathF.Sqrt(headSize))]);
        string probabilities = graph.Add("Softmax", [graph.Add("Add", [scores, additiveMask])], null, null, OnnxGraphBuilder.Int("axis", 3));
        string context = graph.Add("Transpose", [graph.Add("MatMul", [probabilities, value])], null, null, OnnxGraphBuilder.Ints("perm", 0, 2, 1, 3));
        string merged = graph.Add("Reshape", [context, graph.Int64s(0, 0, h)]);
        string attention = ResidualLayerNorm(linear.Linear(merged, key + names.AttentionOutput, h, h), input, key + names.AttentionNorm, null);

        string intermediate = Activation(linear.Linear(attention, key + names.Intermediate, h, config.IntermediateSize));
        return ResidualLayerNorm(linear.Linear(intermediate, key + names.Output, config.IntermediateSize, h), attention, key + names.OutputNorm, output);

        // [batch, seq, hidden] → [batch, heads, seq, head_size] (keys: [batch, heads, head_size, seq]).
        string SplitHeads(string x, bool keyLayout)
        {
            string split = graph.Add("Reshape", [x, graph.Int64s(0, 0, heads, headSize)]);
            return graph.Add("Transpose", [split], null, null, keyLayout ? OnnxGraphBuilder.Ints("perm", 0, 2, 3, 1) : OnnxGraphBuilder.Ints("perm", 0, 2, 1, 3));
        }
    }

    // The same layer in ONNX Runtime's fused operators; the mask is the attention mask as int32 [batch, seq].
    private string FusedLayer(int index, string input, string mask, string? output)
    {
        int h = config.HiddenSize;
        string key = $"{prefix}{source.Family.EncoderAttribute}.layer.{index}.";
        (string qkv, string qkvBias, string? qkvScale, string? product) = linear.PackedQkv(input, key + names.SelfAttention, h, names.Projections);
        AttributeProto heads = OnnxGraphBuilder.Int("num_heads", config.NumAttentionHeads);
        string attention;
        if (qkvScale is null)
        {
            attention = graph.Add("Attention", [input, qkv, qkvBias, mask], null, OnnxGraphBuilder.MicrosoftDomain, heads);
        }
        else if (product is not null)
        {
            // Activations quantized per token (int8 product of the packed projections), then ONNX Runtime's
            // MultiHeadAttention on the float query, key and value, which adds the packed bias itself.
            string[] parts = [graph.Fresh("/query"), graph.Fresh("/key"), graph.Fresh("/value")];
            graph.AddMulti("Split", [product, graph.Int64s(h, h, h)], parts, null, OnnxGraphBuilder.Int("axis", -1));
            attention = graph.Add("MultiHeadAttention", [parts[0], parts[1], parts[2], qkvBias, mask], null, OnnxGraphBuilder.MicrosoftDomain, heads);
        }
        else
        {
            // Activations quantized per call (uint8, asymmetric), weights per column (int8 symmetric, or uint8 around 128).
            string quantized = graph.Fresh("/DynamicQuantizeLinear_output");
            string scale = graph.Fresh("/DynamicQuantizeLinear_scale");
            string zeroPoint = graph.Fresh("/DynamicQuantizeLinear_zero_point");
            graph.AddMulti("DynamicQuantizeLinear", [input], [quantized, scale, zeroPoint]);
            attention = graph.Add("QAttention", linear.WithWeightZeroPoint([quantized, qkv, qkvBias, scale, qkvScale, mask, zeroPoint]), null, OnnxGraphBuilder.MicrosoftDomain, heads);
        }

        (string dense, string denseBias) = linear.LinearWithoutBias(attention, key + names.AttentionOutput, h, h);
        string normed = SkipLayerNorm(dense, input, denseBias, key + names.AttentionNorm, null);
        (string up, string upBias) = linear.LinearWithoutBias(normed, key + names.Intermediate, h, config.IntermediateSize);
        string activated = config.HiddenAct switch
        {
            "gelu" => graph.Add("BiasGelu", [up, upBias], null, OnnxGraphBuilder.MicrosoftDomain),
            "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => graph.Add("FastGelu", [up, upBias], null, OnnxGraphBuilder.MicrosoftDomain),
            _ => Activation(graph.Add("Add", [up, upBias])),
        };
        (string down, string downBias) = linear.LinearWithoutBias(activated, key + names.Output, config.IntermediateSize, h);
        return SkipLayerNorm(down, normed, downBias, key + names.OutputNorm, output);
    }

    private string SkipLayerNorm(string x, string residual, string bias, string key, string? output)
    {
        int h = config.HiddenSize;
        string gamma = graph.Floats(key + ".weight", source.Weight(key + ".weight", h), h);
        string beta = graph.Floats(key + ".bias", source.Weight(key + ".bias", h), h);
        return graph.Add("SkipLayerNormalization", [x, residual, gamma, beta, bias], output, OnnxGraphBuilder.MicrosoftDomain, OnnxGraphBuilder.Float("epsilon", (float)config.LayerNormEps));
    }

    private string ResidualLayerNorm(string x, string residual, string key, string? output) =>
        LayerNorm(graph.Add("Add", [x, residual]), key, output);

    private string LayerNorm(string x, string key, string? output = null) => OnnxLayers.LayerNorm(graph, source, x, key, output: output);

    private string Activation(string x) => OnnxLayers.Activation(graph, source, x, config.HiddenAct);
}
