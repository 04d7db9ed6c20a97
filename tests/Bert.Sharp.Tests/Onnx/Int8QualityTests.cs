using Bert.Sharp.Onnx;
using Bert.Sharp.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;

namespace Bert.Sharp.Tests.Onnx;

/// <summary>The int8 export's fp32-kept layers, per-channel scales, and the quality check at export.</summary>
[Collection(ExportedModelsGroup.Name)]
public sealed class Int8QualityTests(ExportedModelsFixture fixture)
{
    private static readonly string[] Texts = ["a fine phone", "it broke after a day", "battery is ok", "never again", "works great with my car"];

    [Fact]
    public void Per_channel_quantization_gives_each_column_its_own_scale()
    {
        float[] matrix = [1f, 0.01f, -2f, 0.02f];
        (sbyte[] values, float[] scales) = Int8Quantizer.PerColumn(matrix, rows: 2, columns: 2);
        Assert.Equal(2f / 127f, scales[0], 6);
        Assert.Equal(0.02f / 127f, scales[1], 6);
        Assert.Equal(-127, values[2]);
        Assert.Equal(127, values[3]);
        (_, float[] one) = Int8Quantizer.PerTensor(matrix);
        Assert.Equal([2f / 127f], one);
    }

    public static TheoryData<bool, OnnxInt8Format> Int8Formats =>
        new() { { true, OnnxInt8Format.UnsignedWeights }, { false, OnnxInt8Format.UnsignedWeights }, { true, OnnxInt8Format.SignedWeights },
            { false, OnnxInt8Format.SignedWeights }, { true, OnnxInt8Format.ReducedRange }, { false, OnnxInt8Format.ReducedRange } };

    [Theory]
    [MemberData(nameof(Int8Formats))]
    public void Each_int8_format_writes_products_that_no_cpu_saturates_unless_it_is_signed_weights(bool perTokenActivations, OnnxInt8Format format)
    {
        // Without VNNI, ONNX Runtime's u8·s8 kernel (vpmaddubsw) adds two products in a saturating int16: an export whose
        // 2 × largest activation × largest weight exceeds 32,767 is clipped silently there (four int8 tests failed on an
        // AVX2 EPYC before). u8·u8 is widened to 16 bits before the multiply on every CPU.
        using ExportedModelsFixture.ScratchFolder scratch = fixture.NewScratch($"int8-format-{perTokenActivations}-{format}");
        OnnxExporter.Export(fixture.Embedder, scratch.OnnxPath, new OnnxExportOptions
        {
            Quantization = OnnxQuantization.DynamicInt8,
            PerTokenActivations = perTokenActivations,
            Int8Format = format,
        });
        ModelProto exported = ModelProto.Parser.ParseFrom(File.ReadAllBytes(scratch.OnnxPath));
        GraphProto graph = exported.Graph;
        var initializers = graph.Initializer.ToDictionary(i => i.Name);
        bool unsigned = format == OnnxInt8Format.UnsignedWeights;
        string expectedName = format switch { OnnxInt8Format.SignedWeights => "signed_weights", OnnxInt8Format.ReducedRange => "reduced_range", _ => "unsigned_weights" };
        Assert.Equal(expectedName, Assert.Single(exported.MetadataProps, p => p.Key == "int8_format").Value);

        TensorProto[] weights = [.. graph.Initializer.Where(i => (i.Name.EndsWith(".weight_int8", StringComparison.Ordinal) || i.Name.EndsWith(".weight_uint8", StringComparison.Ordinal)) && !i.Name.Contains("embeddings", StringComparison.Ordinal))];
        Assert.NotEmpty(weights);
        Assert.All(weights, w => Assert.Equal((int)(unsigned ? TensorProto.Types.DataType.Uint8 : TensorProto.Types.DataType.Int8), w.DataType));
        int largestWeight = weights.Max(w => w.RawData.Span.ToArray().Max(b => Math.Abs(unsigned ? b - 128 : (sbyte)b)));
        Assert.Equal(format == OnnxInt8Format.ReducedRange && !perTokenActivations ? Int8Quantizer.ReducedRange : Int8Quantizer.FullRange, largestWeight);

        // Every integer product names the weights' zero point: 128 for uint8 weights, none for int8.
        NodeProto[] products = [.. graph.Node.Where(n => n.OpType is "MatMulIntegerToFloat" or "DynamicQuantizeMatMul" or "QAttention")];
        Assert.NotEmpty(products);
        int zeroPointInput(NodeProto n) => n.OpType switch { "MatMulIntegerToFloat" => 5, "DynamicQuantizeMatMul" => 3, _ => 7 };
        Assert.All(products, n =>
        {
            string zeroPoint = n.Input.Count > zeroPointInput(n) ? n.Input[zeroPointInput(n)] : string.Empty;
            byte[] expected = unsigned ? [128] : [];
            Assert.Equal(expected, zeroPoint.Length == 0 ? [] : initializers[zeroPoint].RawData.ToByteArray());
        });

        float[] rowLevels = [.. graph.Node.Where(n => n.OpType == "Div" && initializers.ContainsKey(n.Input[1]))
            .Select(n => initializers[n.Input[1]])
            .Where(t => t.DataType == (int)TensorProto.Types.DataType.Float && t.RawData.Length == sizeof(float))
            .Select(t => BitConverter.ToSingle(t.RawData.Span))
            .Where(v => v is 127f or 255f)
            .Distinct()];
        float largestActivation = perTokenActivations ? Assert.Single(rowLevels) : 255f;
        Assert.Equal(format == OnnxInt8Format.ReducedRange && perTokenActivations ? 127f : 255f, largestActivation);
        Assert.Equal(format != OnnxInt8Format.SignedWeights, unsigned || 2 * largestActivation * largestWeight <= short.MaxValue);

        // And the graph runs in ONNX Runtime; the two formats that cannot saturate stay close to float32 on any CPU.
        using var fp32 = new InferenceSession(Path.Combine(fixture.Embedder, "model.onnx"));
        using var int8 = new InferenceSession(scratch.OnnxPath);
        OnnxTestBatch batch = OnnxTestBatch.All().First();
        float[] reference = batch.Run(fp32)["sentence_embedding"], quantized = batch.Run(int8)["sentence_embedding"];
        Assert.All(quantized, v => Assert.True(float.IsFinite(v)));
        if (format != OnnxInt8Format.SignedWeights)
        {
            int width = reference.Length / batch.Size;
            double worst = Enumerable.Range(0, batch.Size).Min(r => Cosine(reference.AsSpan(r * width, width), quantized.AsSpan(r * width, width)));
            Assert.True(worst >= 0.98, $"{format}: int8 sentence embeddings at cosine {worst} to float32");
        }
    }

    [Fact]
    public void Modules_kept_in_float32_stay_matmuls_with_float_weights()
    {
        using ExportedModelsFixture.ScratchFolder scratchInt8Kept = fixture.NewScratch("int8-kept");
        string path = scratchInt8Kept.OnnxPath;
        OnnxExporter.Export(fixture.PoolerClassifier, path, new OnnxExportOptions
        {
            Quantization = OnnxQuantization.DynamicInt8,
            Float32Modules = ["classifier", "pooler", "encoder.layer.0"],
        });
        GraphProto graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph;
        var initializers = graph.Initializer.Select(i => i.Name).ToHashSet();
        Assert.Contains(OnnxLinearWriter.TransposedPrefix + "classifier.weight", initializers);
        Assert.Contains(OnnxLinearWriter.TransposedPrefix + "bert.pooler.dense.weight", initializers);
        Assert.Contains(OnnxLinearWriter.TransposedPrefix + "bert.encoder.layer.0.attention.self.qkv.weight", initializers);
        Assert.Contains(OnnxLinearWriter.TransposedPrefix + "bert.encoder.layer.0.output.dense.weight", initializers);
        Assert.DoesNotContain(initializers, n => n.Contains("layer.0.", StringComparison.Ordinal) && (n.EndsWith("_int8", StringComparison.Ordinal) || n.EndsWith("_uint8", StringComparison.Ordinal)));
        Assert.Contains(OnnxLinearWriter.TransposedPrefix + "bert.encoder.layer.1.output.dense.weight_uint8", initializers);
        Assert.Equal(1, graph.Node.Count(n => n.OpType == "Attention"));
        Assert.Equal(5, graph.Node.Count(n => n.OpType == "MultiHeadAttention"));
    }

    [Fact]
    public void Per_token_int8_runs_in_onnx_runtime_close_to_float32_and_scores_a_text_alike_alone_or_batched()
    {
        using ExportedModelsFixture.ScratchFolder scratchInt8PerToken = fixture.NewScratch("int8-per-token");
        string path = scratchInt8PerToken.OnnxPath;
        OnnxExporter.Export(fixture.Embedder, path, new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8 });
        GraphProto graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph;
        Assert.Equal(6, graph.Node.Count(n => n.OpType == "MultiHeadAttention"));
        Assert.True(graph.Node.Count(n => n.OpType == "MatMulIntegerToFloat") >= (4 * 6) - 1, "every encoder projection but the default float32 one is an int8 product");
        Assert.DoesNotContain(graph.Node, n => n.OpType is "DynamicQuantizeLinear" or "DynamicQuantizeMatMul" or "QAttention");

        using var fp32 = new InferenceSession(Path.Combine(fixture.Embedder, "model.onnx"));
        using var int8 = new InferenceSession(path);
        double worstCosine = 1, worstAloneDiff = 0;
        foreach (OnnxTestBatch batch in OnnxTestBatch.All())
        {
            float[] reference = batch.Run(fp32)["sentence_embedding"], batched = batch.Run(int8)["sentence_embedding"];
            int width = reference.Length / batch.Size;
            for (int r = 0; r < batch.Size; r++)
            {
                worstCosine = Math.Min(worstCosine, Cosine(reference.AsSpan(r * width, width), batched.AsSpan(r * width, width)));

                // The same text alone, unpadded: per-token scales make its int8 activations independent of the batch.
                int real = (int)batch.Mask.AsSpan(r * batch.Length, batch.Length).ToArray().Sum();
                var alone = new OnnxTestBatch("alone", 1, real, batch.Ids.AsSpan(r * batch.Length, real).ToArray(),
                    batch.Mask.AsSpan(r * batch.Length, real).ToArray(), batch.Types.AsSpan(r * batch.Length, real).ToArray());
                float[] single = alone.Run(int8)["sentence_embedding"];
                for (int i = 0; i < width; i++)
                {
                    worstAloneDiff = Math.Max(worstAloneDiff, Math.Abs(single[i] - batched[(r * width) + i]));
                }
            }
        }

        Assert.True(worstCosine >= 0.99, $"per-token int8 sentence embeddings have cosine similarity {worstCosine} with float32");
        Assert.True(worstAloneDiff < 1e-3, $"a text's int8 embedding moves by {worstAloneDiff} between alone and batched");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_first_token_rounded_twice_brings_int8_closer_to_float32_without_float32_weights(bool perTokenActivations)
    {
        using ExportedModelsFixture.ScratchFolder first = fixture.NewScratch($"int8-first-token-{perTokenActivations}");
        using ExportedModelsFixture.ScratchFolder rounded = fixture.NewScratch($"int8-first-token-rounded-{perTokenActivations}");
        var int8 = new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8, PerTokenActivations = perTokenActivations };
        OnnxExporter.Export(fixture.Embedder, first.OnnxPath, int8);
        OnnxExporter.Export(fixture.Embedder, rounded.OnnxPath, int8 with { PreciseFirstToken = false });

        // Per token, each int8 product takes one more row per sequence (the first token's remainder): the input, scales,
        // zero points and result of the product are joined along the sequence axis, four Concats. With one scale per batch
        // the first tokens are quantized apart, their values (MatMulIntegerToFloat) and remainders (a second
        // DynamicQuantizeMatMul) through products of their own, whose sum replaces the batch's first row (one Concat). No
        // float32 product is added: a float32 row against dequantized weights made ONNX Runtime keep a float32 copy of every
        // int8 weight.
        GraphProto graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(first.OnnxPath)).Graph;
        GraphProto roundedGraph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(rounded.OnnxPath)).Graph;
        int Count(GraphProto g, string op) => g.Node.Count(n => n.OpType == op);
        int SequenceConcats(GraphProto g) => g.Node.Count(n => n.OpType == "Concat" && n.Attribute.Any(a => a.Name == "axis" && a.I == 1));
        int int8Products = Count(graph, "MatMulIntegerToFloat");
        Assert.True(int8Products > 0);
        Assert.Equal(0, SequenceConcats(roundedGraph));
        if (perTokenActivations)
        {
            Assert.Equal(int8Products, Count(roundedGraph, "MatMulIntegerToFloat"));
            Assert.Equal(4 * int8Products, SequenceConcats(graph));
        }
        else
        {
            // Rounded, the packed Q/K/V projections stay inside QAttention; apart, they are a product of their own.
            Assert.Equal(0, Count(roundedGraph, "MatMulIntegerToFloat"));
            Assert.Equal(int8Products, Count(roundedGraph, "DynamicQuantizeMatMul") + Count(roundedGraph, "QAttention"));
            Assert.Equal(2 * int8Products, Count(graph, "DynamicQuantizeMatMul"));
            Assert.Equal(int8Products, SequenceConcats(graph));
        }

        Assert.Equal(roundedGraph.Node.Count(n => n.OpType == "MatMul"), graph.Node.Count(n => n.OpType == "MatMul"));
        Assert.True(new FileInfo(first.OnnxPath).Length <= new FileInfo(rounded.OnnxPath).Length * 1.01, "the second rounding reuses the int8 weights: the file does not grow");

        using var fp32 = new InferenceSession(Path.Combine(fixture.Embedder, "model.onnx"));
        using var withFirst = new InferenceSession(first.OnnxPath);
        using var withoutFirst = new InferenceSession(rounded.OnnxPath);
        double errorWith = 0, errorWithout = 0;
        foreach (OnnxTestBatch batch in OnnxTestBatch.All())
        {
            float[] reference = batch.Run(fp32)["sentence_embedding"], a = batch.Run(withFirst)["sentence_embedding"], b = batch.Run(withoutFirst)["sentence_embedding"];
            for (int i = 0; i < reference.Length; i++)
            {
                errorWith += Math.Abs(a[i] - reference[i]);
                errorWithout += Math.Abs(b[i] - reference[i]);
            }
        }

        Assert.True(errorWith < errorWithout, $"int8 error with the first token rounded twice {errorWith:G4}, once {errorWithout:G4}");

        // A sequence of one token: the rows after the first are none (an empty slice), and the result is the first row's.
        var one = new OnnxTestBatch("one token", 1, 1, [101], [1], [0]);
        float[] single = one.Run(withFirst)["sentence_embedding"], singleReference = one.Run(fp32)["sentence_embedding"];
        Assert.True(Cosine(single, singleReference) >= 0.99, $"one-token cosine {Cosine(single, singleReference)}");
    }

    [Fact]
    public void The_quality_check_reports_the_figures_and_refuses_above_the_limit()
    {
        using ExportedModelsFixture.ScratchFolder scratchInt8Checked = fixture.NewScratch("int8-checked");
        string path = scratchInt8Checked.OnnxPath;
        var check = new OnnxQualityCheck { Texts = Texts, Scorer = OnnxExportScoring.TextClassification, MaxProbabilityChange = 0.5, MinLabelAgreement = 0 };
        OnnxQualityReport? report = OnnxExporter.Export(fixture.PoolerClassifier, path, new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8, QualityCheck = check });
        Assert.NotNull(report);
        Assert.Equal(Texts.Length, report.Texts);
        Assert.True(report.MaxProbabilityChange > 0, "int8 scores equal float32 exactly: nothing was quantized");
        Assert.True(report.MaxProbabilityChange < 0.5, report.ToString());
        Assert.True(report.Passed);
        Assert.True(File.Exists(path));

        using ExportedModelsFixture.ScratchFolder scratchInt8Refused = fixture.NewScratch("int8-refused");

        string refused = scratchInt8Refused.OnnxPath;
        var e = Assert.Throws<OnnxQualityException>(() => OnnxExporter.Export(fixture.PoolerClassifier, refused,
            new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8, QualityCheck = check with { MaxProbabilityChange = 0 } }));
        Assert.False(e.Report!.Passed);
        Assert.Contains("max probability change", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(refused));

        OnnxQualityReport? warned = OnnxExporter.Export(fixture.PoolerClassifier, refused,
            new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8, QualityCheck = check with { MaxProbabilityChange = 0, OnFailure = OnnxQualityAction.Warn } });
        Assert.False(warned!.Passed);
        Assert.True(File.Exists(refused));
    }

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }
}
