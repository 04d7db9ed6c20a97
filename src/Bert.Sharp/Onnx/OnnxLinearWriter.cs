using Bert.Sharp.Onnx.Proto;

namespace Bert.Sharp.Onnx;

/// <summary>
/// Writes the linear layers and the word-embedding lookup, in float32 (<c>MatMul</c> + <c>Add</c>, the weight stored
/// transposed as <c>torch.onnx</c> stores it) or in int8 (ONNX Runtime's integer products with per-column symmetric int8
/// weights, or <c>MatMulNBits</c> with a scale per block of 32 weights; the word-embedding table as int8 with one scale per
/// block of 32 numbers).
/// </summary>
internal sealed class OnnxLinearWriter(OnnxGraphBuilder graph, OnnxExportSource source, OnnxExportOptions options)
{
    /// <summary>Prefix of the transposed MatMul weights: not a checkpoint key, so the importer traces them through their bias.</summary>
    public const string TransposedPrefix = "transposed/";

    /// <summary>Prefix of the packed query/key/value bias of a fused Attention node (not a checkpoint key either).</summary>
    public const string PackedPrefix = "packed/";

    /// <summary>Numbers of an embedding row that share one int8 scale: fine enough that the table costs no accuracy (one scale per whole row cost 2 points on the sentiment sample), 1/8 byte of scale per value.</summary>
    private const int EmbeddingBlock = 32;

    /// <summary>The zero point of uint8 weights (<see cref="OnnxInt8Format.UnsignedWeights"/>): the int8 values shifted into [1, 255].</summary>
    private const int UnsignedZeroPoint = 128;

    /// <summary>Floor of a per-token activation scale: an all-zero row divides by it and quantizes to zero.</summary>
    private const float TinyScale = 1e-30f;

    /// <summary>Whether weights are written as int8 (linear layers named in <see cref="OnnxExportOptions.Float32Modules"/> excepted).</summary>
    public bool Int8 => options.Quantization == OnnxQuantization.DynamicInt8;

    /// <summary>Whether the linear layer <paramref name="module"/> is written as int8.</summary>
    public bool Quantizes(string module) => Int8 && !options.KeepsFloat32(module, source.Prefix, source.Family);

    /// <summary>
    /// <c>x · Wᵀ + b</c> for the checkpoint module <paramref name="module"/> (keys <c>{module}.weight</c>, <c>{module}.bias</c>);
    /// <paramref name="x"/> is [batch, seq, in] when <paramref name="tokens"/> (an encoder layer, a token head), else [batch, in].
    /// Without <paramref name="hasBias"/> (ModernBERT's bias-free layers) there is no <c>{module}.bias</c> and no Add.
    /// </summary>
    public string Linear(string x, string module, int inFeatures, int outFeatures, string? output = null, bool tokens = true, bool hasBias = true)
    {
        string? bias = hasBias ? graph.Floats(module + ".bias", source.Weight(module + ".bias", outFeatures), outFeatures) : null;
        if (Blockwise && Quantizes(module))
        {
            return BlockProduct(x, module, source.Weight(module + ".weight", outFeatures, inFeatures), inFeatures, outFeatures, bias, output).Product;
        }

        float[] weight = source.TransposedWeight(module + ".weight", outFeatures, inFeatures);
        if (!Quantizes(module))
        {
            string product = graph.Add("MatMul", [x, graph.Floats(TransposedPrefix + module + ".weight", weight, inFeatures, outFeatures)], bias is null ? output : null);
            return bias is null ? product : graph.Add("Add", [product, bias], output);
        }

        (sbyte[] quantized, float[] scales) = QuantizeColumns(weight, inFeatures, outFeatures);
        string b = WeightInitializer(TransposedPrefix + module, quantized, inFeatures, outFeatures);
        string scale = graph.Floats(module + ".weight_scale", scales, scales.Length);
        if (options.PerTokenActivations || (tokens && options.PreciseFirstToken))
        {
            string product = QuantizedProduct(x, b, scale, quantized, scales, tokens);
            return bias is null ? (output is null ? product : graph.Add("Identity", [product], output)) : graph.Add("Add", [product, bias], output);
        }

        string[] inputs = bias is null ? WithWeightZeroPoint([x, b, scale]) : [x, b, scale, WeightZeroPoint ?? string.Empty, bias];
        return graph.Add("DynamicQuantizeMatMul", inputs, output, OnnxGraphBuilder.MicrosoftDomain);
    }

    /// <summary>
    /// <c>x · W</c> for int8 weights <paramref name="weight"/> [in, out] (values <paramref name="values"/>) with per-column
    /// scales <paramref name="weightScales"/> (initializer <paramref name="weightScale"/>), the activations quantized per
    /// token (<see cref="OnnxExportOptions.PerTokenActivations"/>): each row of <paramref name="x"/> gets its own asymmetric
    /// uint8 scale and zero point over [min(row, 0), max(row, 0)], so the one-sided activations after GELU use all the
    /// levels (128 with <see cref="OnnxInt8Format.ReducedRange"/>, else 256) and one long text or one large token no longer
    /// coarsens every other token's rounding, as one scale per batch (<c>DynamicQuantizeLinear</c>) does. ONNX Runtime's CPU
    /// kernels take one activation zero point, so the product runs with activation zero point 0 (<c>MatMulIntegerToFloat</c>,
    /// u8·u8 around the weights' zero point 128 or u8·s8, applying the weight scales) and each row's
    /// zero point is taken off afterwards through the weight's column sums: <c>(q − z)·W = q·W − z·Σᵢ Wᵢ</c>.
    /// With <see cref="OnnxExportOptions.PreciseFirstToken"/> and <paramref name="tokens"/> ([batch, seq, in] activations)
    /// the first token of each sequence is rounded twice, its remainder taking a row of its own (<see cref="WithRemainderRow"/>);
    /// with one activation scale per batch the batch's first tokens are quantized apart, twice, with a scale of their own.
    /// </summary>
    private string QuantizedProduct(string x, string weight, string weightScale, ReadOnlySpan<sbyte> values, ReadOnlySpan<float> weightScales, bool tokens)
    {
        bool firstTokenApart = tokens && options.PreciseFirstToken;
        if (!options.PerTokenActivations)
        {
            // One activation scale per call: ONNX Runtime's fused DynamicQuantizeMatMul.
            string batchProduct = graph.Add("DynamicQuantizeMatMul", WithWeightZeroPoint([x, weight, weightScale]), null, OnnxGraphBuilder.MicrosoftDomain);
            if (!firstTokenApart)
            {
                return batchProduct;
            }

            // The first token, whose range would take most of a scale it shares (see PreciseFirstToken), is quantized apart
            // with one scale for the batch's first tokens (the attention sinks, of like range), its value and the remainder
            // of that rounding each through an int8 product; their sum replaces the batch product's first row. Fused
            // operators only: one text's call pays per operator. The batch's product runs over every token and its first
            // row is dropped: slicing the input instead leaves an empty tensor for a one-token sequence.
            string first = First(x);
            string[] rounded = [graph.Fresh("/first_token_uint8"), graph.Fresh("/first_token_scale"), graph.Fresh("/first_token_zero_point")];
            graph.AddMulti("DynamicQuantizeLinear", [first], rounded);
            string valueProduct = graph.Add("MatMulIntegerToFloat", WithWeightZeroPoint([rounded[0], weight, rounded[1], weightScale, rounded[2]]), null, OnnxGraphBuilder.MicrosoftDomain);
            string remainder = graph.Add("Sub", [first, graph.Add("DequantizeLinear", [rounded[0], rounded[1], rounded[2]])]);
            string remainderProduct = graph.Add("DynamicQuantizeMatMul", WithWeightZeroPoint([remainder, weight, weightScale]), null, OnnxGraphBuilder.MicrosoftDomain);
            string firstRow = graph.Add("Add", [valueProduct, remainderProduct]);
            string others = graph.Add("Slice", [batchProduct, graph.Int64s(1), graph.Int64s(long.MaxValue), graph.Int64s(1)]);
            return graph.Add("Concat", [firstRow, others], null, null, OnnxGraphBuilder.Int("axis", 1));
        }

        int width = values.Length / weightScales.Length;
        string sums = ColumnSums(weight, values, weightScales);
        (string quantized, string rowScale, string zeroPoint) = QuantizeRows(x, width);
        if (!firstTokenApart)
        {
            return IntegerProduct(quantized, rowScale, zeroPoint, weight, weightScale, sums);
        }

        // The first token twice: its remainder's row is appended after the last token and its product added back to the
        // first row's. Two roundings of 256 levels give the first token about 16 bits from the int8 weights alone: no
        // float32 copy of them.
        (string allRows, string allScales, string allZeroPoints) = WithRemainderRow(x, (quantized, rowScale, zeroPoint), width);
        string product = IntegerProduct(allRows, allScales, allZeroPoints, weight, weightScale, sums);
        string axis = graph.Int64s(1);
        string firstRowSum = graph.Add("Add", [First(product), graph.Add("Slice", [product, graph.Int64s(-1), graph.Int64s(long.MaxValue), axis])]);
        string rest = graph.Add("Slice", [product, graph.Int64s(1), graph.Int64s(-1), axis]);
        return graph.Add("Concat", [firstRowSum, rest], null, null, OnnxGraphBuilder.Int("axis", 1));
    }

    // The first position of the sequence axis (1) of t, kept as an axis of length 1.
    private string First(string t) => graph.Add("Slice", [t, graph.Int64s(0), graph.Int64s(1), graph.Int64s(1)]);

    // The weight's column sums times its column scales, Σᵢ Wᵢ per output: what a row's zero point contributes to q·W.
    private string ColumnSums(string weight, ReadOnlySpan<sbyte> values, ReadOnlySpan<float> weightScales)
    {
        int columns = weightScales.Length;
        var columnSums = new float[columns];
        for (int i = 0; i < values.Length; i++)
        {
            columnSums[i % columns] += values[i];
        }

        for (int c = 0; c < columns; c++)
        {
            columnSums[c] *= weightScales[c];
        }

        return graph.Floats(weight + "_column_sums", columnSums, columns);
    }

    // Rows quantized by QuantizeRows with one more row per sequence after them: the rounding remainder of x's first row,
    // x₀ − s₀·(q₀ − z₀), quantized with its own scale and zero point. Values, scales and zero points joined along the
    // sequence axis; the caller adds the last row's product to the first's.
    private (string Quantized, string RowScale, string ZeroPoint) WithRemainderRow(string x, (string Quantized, string RowScale, string ZeroPoint) rows, int width)
    {
        string firstValues = graph.Add("Cast", [First(rows.Quantized)], null, null, OnnxGraphBuilder.Int("to", OnnxTensorData.Float));
        string rounded = graph.Add("Mul", [graph.Add("Sub", [firstValues, First(rows.ZeroPoint)]), First(rows.RowScale)]);
        (string remainder, string remainderScale, string remainderZeroPoint) = QuantizeRows(graph.Add("Sub", [First(x), rounded]), width);
        AttributeProto seqAxis = OnnxGraphBuilder.Int("axis", 1);
        return (graph.Add("Concat", [rows.Quantized, remainder], null, null, seqAxis),
            graph.Add("Concat", [rows.RowScale, remainderScale], null, null, seqAxis),
            graph.Add("Concat", [rows.ZeroPoint, remainderZeroPoint], null, null, seqAxis));
    }

    // Each row of x (its last axis, width numbers) as uint8 with its own scale and zero point over [min(row, 0), max(row, 0)];
    // scales and zero points (float, whole numbers) keep x's shape with a last axis of 1. Three passes over x: the two
    // reductions and one per-axis QuantizeLinear over the rows seen as [rows, width] (a multiply, round, add, clip and
    // cast written as separate operators cost four more passes, which took all of int8's speed on an AVX-512 Xeon).
    private (string Quantized, string RowScale, string ZeroPoint) QuantizeRows(string x, int width)
    {
        string high = graph.Add("Max", [graph.Reduce("ReduceMax", x, [-1], keepDims: true), graph.ScalarFloat(0f)]);
        string low = graph.Add("Min", [graph.Reduce("ReduceMin", x, [-1], keepDims: true), graph.ScalarFloat(0f)]);
        string rowScale = graph.Add("Max", [graph.Add("Div", [graph.Add("Sub", [high, low]), graph.ScalarFloat(ActivationLevels - 1)]), graph.ScalarFloat(TinyScale)]);
        string zeroPoint = graph.Add("Round", [graph.Add("Div", [graph.Add("Neg", [low]), rowScale])]); // in [0, levels − 1]: low ≤ 0 ≤ high
        string flat = graph.Int64s(-1);
        string zeroPointBytes = graph.Add("Cast", [zeroPoint], null, null, OnnxGraphBuilder.Int("to", (long)TensorProto.Types.DataType.Uint8));
        string rows = graph.Add("QuantizeLinear",
            [graph.Add("Reshape", [x, graph.Int64s(-1, width)]), graph.Add("Reshape", [rowScale, flat]), graph.Add("Reshape", [zeroPointBytes, flat])],
            null, null, OnnxGraphBuilder.Int("axis", 0));
        return (graph.Add("Reshape", [rows, graph.Add("Shape", [x])]), rowScale, zeroPoint);
    }

    // q·W of rows quantized by QuantizeRows, back in floats: the product with activation zero point 0 (ONNX Runtime's CPU
    // kernels take one for all rows), each row's zero point taken off through the weight's column sums, times its scale.
    private string IntegerProduct(string quantized, string rowScale, string zeroPoint, string weight, string weightScale, string sums)
    {
        // Inputs A, B, a_scale, b_scale, a_zero_point (none: the rows' zero points are taken off below), b_zero_point.
        string[] productInputs = WeightZeroPoint is string weightZeroPoint ? [quantized, weight, graph.ScalarFloat(1f), weightScale, string.Empty, weightZeroPoint] : [quantized, weight, graph.ScalarFloat(1f), weightScale];
        string product = graph.Add("MatMulIntegerToFloat", productInputs, null, OnnxGraphBuilder.MicrosoftDomain);
        string centred = graph.Add("Sub", [product, graph.Add("Mul", [zeroPoint, sums])]);
        return graph.Add("Mul", [centred, rowScale]);
    }

    /// <summary>
    /// <c>x · Wᵀ</c> without the bias, which the caller hands to the fused operator that follows (SkipLayerNormalization,
    /// BiasGelu); the bias initializer is returned too.
    /// </summary>
    public (string Product, string Bias) LinearWithoutBias(string x, string module, int inFeatures, int outFeatures)
    {
        string bias = graph.Floats(module + ".bias", source.Weight(module + ".bias", outFeatures), outFeatures);
        if (Blockwise && Quantizes(module))
        {
            return (BlockProduct(x, module, source.Weight(module + ".weight", outFeatures, inFeatures), inFeatures, outFeatures, null, null).Product, bias);
        }

        float[] weight = source.TransposedWeight(module + ".weight", outFeatures, inFeatures);
        if (!Quantizes(module))
        {
            return (graph.Add("MatMul", [x, graph.Floats(TransposedPrefix + module + ".weight", weight, inFeatures, outFeatures)]), bias);
        }

        (sbyte[] quantized, float[] scales) = QuantizeColumns(weight, inFeatures, outFeatures);
        string b = WeightInitializer(TransposedPrefix + module, quantized, inFeatures, outFeatures);
        string scale = graph.Floats(module + ".weight_scale", scales, scales.Length);
        return (QuantizedProduct(x, b, scale, quantized, scales, tokens: true), bias);
    }

    /// <summary>
    /// The query, key and value projections of <paramref name="selfAttention"/> packed side by side as ONNX Runtime's
    /// Attention wants them: weight [hidden, 3·hidden] (columns q | k | v), bias [3·hidden], and for int8 the scales (per
    /// column, or one). Float32 (no scale) when the three are not quantized (<see cref="OnnxExportOptions.Float32Modules"/>).
    /// With per-token activations (<see cref="OnnxExportOptions.PerTokenActivations"/>) or <see cref="OnnxInt8Format.Blockwise"/>
    /// (whose weight and scales are blocks) also the int8 product <c>input · W</c> [batch, seq, 3·hidden] without the bias,
    /// which the caller hands to an attention over float projections.
    /// </summary>
    public (string Weight, string Bias, string? Scale, string? Product) PackedQkv(string input, string selfAttention, int hidden, IReadOnlyList<string>? projections = null)
    {
        string[] parts = projections is null ? ["query", "key", "value"] : [.. projections];
        var packed = new float[hidden * 3 * hidden];
        var bias = new float[3 * hidden];
        for (int p = 0; p < 3; p++)
        {
            float[] weight = source.TransposedWeight($"{selfAttention}.{parts[p]}.weight", hidden, hidden);
            for (int r = 0; r < hidden; r++)
            {
                Array.Copy(weight, r * hidden, packed, (r * 3 * hidden) + (p * hidden), hidden);
            }

            source.Weight($"{selfAttention}.{parts[p]}.bias", hidden).CopyTo(bias, p * hidden);
        }

        string biasName = graph.Floats(PackedPrefix + selfAttention + ".qkv.bias", bias, 3 * hidden);
        if (parts.Any(part => !Quantizes($"{selfAttention}.{part}")))
        {
            return (graph.Floats(TransposedPrefix + selfAttention + ".qkv.weight", packed, hidden, 3 * hidden), biasName, null, null);
        }

        if (Blockwise)
        {
            // MatMulNBits wants the weight as [out, in]: the three [hidden, hidden] weights one after another.
            float[] rows = [.. parts.SelectMany(part => source.Weight($"{selfAttention}.{part}.weight", hidden, hidden))];
            (string product, string blocks, string blockScales) = BlockProduct(input, selfAttention + ".qkv", rows, hidden, 3 * hidden, null, null);
            return (blocks, biasName, blockScales, product);
        }

        (sbyte[] quantized, float[] scales) = QuantizeColumns(packed, hidden, 3 * hidden);
        string weightName = WeightInitializer(TransposedPrefix + selfAttention + ".qkv", quantized, hidden, 3 * hidden);
        string scaleName = graph.Floats(selfAttention + ".qkv.weight_scale", scales, scales.Length);
        return (weightName, biasName, scaleName, options.PerTokenActivations || options.PreciseFirstToken ? QuantizedProduct(input, weightName, scaleName, quantized, scales, tokens: true) : null);
    }

    private bool Blockwise => options.Int8Format == OnnxInt8Format.Blockwise;

    // x · Wᵀ (+ bias) through ONNX Runtime's MatMulNBits (OnnxInt8Format.Blockwise): W [out, in] as 8-bit blocks of WeightBlock
    // input numbers per output, each with its own scale; accuracy level 4 has ONNX Runtime quantize x to int8 per block
    // of each row as well and multiply with its integer kernels. The bias, if any, is the operator's own input.
    private (string Product, string Blocks, string BlockScales) BlockProduct(string x, string module, float[] weight, int inFeatures, int outFeatures, string? bias, string? output)
    {
        // MatMulNBits' accuracy_level 4: int8 activations and integer products (levels 0–1 multiply in float32, 3.5× slower for one short text).
        const int IntegerAccuracyLevel = 4;
        const int WeightBlock = Int8Quantizer.WeightBlock;
        (byte[] values, float[] scales) = Int8Quantizer.Blocks(weight, outFeatures, inFeatures, WeightBlock);
        string blocks = graph.UInt8s(module + ".weight_blocks", values, outFeatures, values.Length / (outFeatures * WeightBlock), WeightBlock);
        string blockScales = graph.Floats(module + ".weight_block_scales", scales, scales.Length);
        string[] inputs = bias is null ? [x, blocks, blockScales] : [x, blocks, blockScales, string.Empty, string.Empty, bias];
        string product = graph.Add("MatMulNBits", inputs, output, OnnxGraphBuilder.MicrosoftDomain,
            OnnxGraphBuilder.Int("K", inFeatures), OnnxGraphBuilder.Int("N", outFeatures), OnnxGraphBuilder.Int("bits", 8),
            OnnxGraphBuilder.Int("block_size", WeightBlock), OnnxGraphBuilder.Int("accuracy_level", IntegerAccuracyLevel));
        return (product, blocks, blockScales);
    }

    /// <summary>The zero point of the quantized weights: 128 for uint8 weights (<see cref="OnnxInt8Format.UnsignedWeights"/>), none for int8.</summary>
    public string? WeightZeroPoint => Unsigned ? graph.ScalarUInt8(UnsignedZeroPoint) : null;

    private bool Unsigned => options.Int8Format == OnnxInt8Format.UnsignedWeights;

    /// <summary><paramref name="inputs"/> of an operator whose next input is the weight zero point, with it appended for uint8 weights.</summary>
    public string[] WithWeightZeroPoint(string[] inputs) => WeightZeroPoint is string zeroPoint ? [.. inputs, zeroPoint] : inputs;

    // A quantized weight [rows, columns]: int8 (module.weight_int8), or uint8 shifted by 128 (module.weight_uint8), which ONNX
    // Runtime multiplies u8·u8 by widening both to 16 bits, so no pair of products can saturate and 8 bits stay on both sides.
    private string WeightInitializer(string module, sbyte[] quantized, int rows, int columns)
    {
        if (!Unsigned)
        {
            return graph.Int8s(module + ".weight_int8", quantized, rows, columns);
        }

        byte[] shifted = [.. quantized.Select(q => (byte)(q + UnsignedZeroPoint))];
        return graph.UInt8s(module + ".weight_uint8", shifted, rows, columns);
    }

    // The levels of a per-token activation: 128 (7 bits) with OnnxInt8Format.ReducedRange, so that a pair of uint8 × int8
    // products (at most 2 × 127 × 127 = 32,258) fits the int16 that ONNX Runtime's u8·s8 kernel sums in without VNNI.
    private float ActivationLevels => options.Int8Format == OnnxInt8Format.ReducedRange ? 128f : 256f;

    // One scale per output column (OnnxExportOptions.PerChannelWeights), or one for the whole matrix; 7 bits where the
    // activations are quantized by ONNX Runtime to 8 bits and the products must stay inside 16 bits (OnnxInt8Format.ReducedRange).
    private (sbyte[] Values, float[] Scales) QuantizeColumns(float[] weight, int rows, int columns)
    {
        int limit = options.Int8Format == OnnxInt8Format.ReducedRange && !options.PerTokenActivations ? Int8Quantizer.ReducedRange : Int8Quantizer.FullRange;
        return options.PerChannelWeights ? Int8Quantizer.PerColumn(weight, rows, columns, limit) : Int8Quantizer.PerTensor(weight, limit);
    }

    /// <summary>The rows of the embedding table <paramref name="key"/> for the ids in <paramref name="ids"/>.</summary>
    public string Embedding(string ids, string key, int rows, int width)
    {
        float[] table = source.Weight(key, rows, width);
        if (!Int8 || !options.QuantizeWordEmbeddings)
        {
            return graph.Add("Gather", [graph.Floats(key, table, rows, width), ids]);
        }

        // int8 values with one scale per block of EmbeddingBlock numbers of a row (per row when the width does not divide);
        // only the gathered rows are turned back into floats.
        int block = width % EmbeddingBlock == 0 ? EmbeddingBlock : width;
        (sbyte[] quantized, float[] scales) = Int8Quantizer.PerRow(table, rows * (width / block), block);
        string gathered = graph.Add("Gather", [graph.Int8s(key + "_int8", quantized, rows, width), ids]);
        string asFloat = graph.Add("Cast", [gathered], null, null, OnnxGraphBuilder.Int("to", OnnxTensorData.Float));
        string blockScales = graph.Unsqueeze(graph.Add("Gather", [graph.Floats(key + "_scale", scales, rows, width / block), ids]), -1);
        string blocks = graph.Add("Reshape", [asFloat, graph.Int64s(0, 0, width / block, block)]);
        return graph.Add("Reshape", [graph.Add("Mul", [blocks, blockScales]), graph.Int64s(0, 0, width)]);
    }
}
