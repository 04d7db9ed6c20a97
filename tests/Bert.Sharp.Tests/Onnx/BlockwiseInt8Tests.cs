using Bert.Sharp.Checkpoints;
using Bert.Sharp.Onnx;
using Bert.Sharp.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Bert.Sharp.Tests.Onnx;

/// <summary>
/// <see cref="OnnxInt8Format.Blockwise"/>: int8 weights with a scale per block of 32 input numbers, multiplied by ONNX
/// Runtime's <c>MatMulNBits</c>, which quantizes the activations itself per block of each token.
/// </summary>
[Collection(ExportedModelsGroup.Name)]
public sealed class BlockwiseInt8Tests(ExportedModelsFixture fixture)
{
    [Fact]
    public void Blocks_give_each_block_of_a_row_its_own_scale_around_zero_point_128_and_pad_the_last_block_with_zero()
    {
        // Two rows of width 5 in blocks of 4: the second block of each row holds one number and three zeros of padding.
        float[] matrix = [1f, -0.5f, 0.25f, 0f, 8f, 0f, 0f, 0f, 0f, -0.01f];
        (byte[] values, float[] scales) = Int8Quantizer.Blocks(matrix, rows: 2, width: 5, block: 4);
        Assert.Equal(2 * 2 * 4, values.Length);
        Assert.Equal([1f / 127f, 8f / 127f, 1f, 0.01f / 127f], scales);
        Assert.Equal([128 + 127, 128 - 64, 128 + 32, 128], values[0..4]);
        Assert.Equal([128 + 127, 128, 128, 128], values[4..8]);
        Assert.Equal([128, 128, 128, 128], values[8..12]);
        Assert.Equal([128 - 127, 128, 128, 128], values[12..16]);
    }

    [Fact]
    public void The_export_writes_matmulnbits_products_keeps_the_head_in_float32_by_default_and_stays_close_to_float32()
    {
        using ExportedModelsFixture.ScratchFolder scratch = fixture.NewScratch("int8-blockwise");
        OnnxExporter.Export(fixture.PoolerClassifier, scratch.OnnxPath, new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8, Int8Format = OnnxInt8Format.Blockwise });
        ModelProto exported = ModelProto.Parser.ParseFrom(File.ReadAllBytes(scratch.OnnxPath));
        GraphProto graph = exported.Graph;
        Assert.Equal("blockwise", Assert.Single(exported.MetadataProps, p => p.Key == "int8_format").Value);

        // Every encoder product, the first layer's output included, is a MatMulNBits (Q/K/V packed: four per layer); the
        // pooler and the classifier stay float32 MatMuls; no quantizing operator is in the graph.
        NodeProto[] products = [.. graph.Node.Where(n => n.OpType == "MatMulNBits")];
        Assert.Equal(4 * 6, products.Length);
        Assert.DoesNotContain(graph.Node, n => n.OpType is "MatMulIntegerToFloat" or "DynamicQuantizeMatMul" or "DynamicQuantizeLinear" or "QAttention" or "QuantizeLinear");
        var initializers = graph.Initializer.ToDictionary(i => i.Name);
        Assert.Contains(OnnxLinearWriter.TransposedPrefix + "classifier.weight", initializers.Keys);
        Assert.Contains(OnnxLinearWriter.TransposedPrefix + "bert.pooler.dense.weight", initializers.Keys);
        Assert.Contains("bert.encoder.layer.0.output.dense.weight_blocks", initializers.Keys);
        Assert.All(products, n =>
        {
            long Attribute(string name) => Assert.Single(n.Attribute, a => a.Name == name).I;
            Assert.Equal(8, Attribute("bits"));
            Assert.Equal(Int8Quantizer.WeightBlock, Attribute("block_size"));
            Assert.Equal(4, Attribute("accuracy_level"));
            TensorProto blocks = initializers[n.Input[1]];
            Assert.Equal([Attribute("N"), Attribute("K") / Int8Quantizer.WeightBlock, Int8Quantizer.WeightBlock], blocks.Dims.ToArray());
            Assert.Equal(Attribute("N") * Attribute("K") / Int8Quantizer.WeightBlock, initializers[n.Input[2]].RawData.Length / sizeof(float));
        });

        // The blocks hold the checkpoint's weights: dequantized, each within half its block's scale.
        NodeProto intermediate = products.Single(n => n.Input[1] == "bert.encoder.layer.2.intermediate.dense.weight_blocks");
        byte[] values = initializers[intermediate.Input[1]].RawData.ToByteArray();
        float[] scales = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(initializers[intermediate.Input[2]].RawData.Span).ToArray();
        Dictionary<string, TorchSharp.torch.Tensor> state = SafeTensors.Load(Path.Combine(fixture.PoolerClassifier, "model.safetensors"));
        try
        {
            float[] weight = state["bert.encoder.layer.2.intermediate.dense.weight"].data<float>().ToArray();
            for (int i = 0; i < weight.Length; i++)
            {
                float scale = scales[i / Int8Quantizer.WeightBlock];
                Assert.True(Math.Abs(((values[i] - 128) * scale) - weight[i]) <= (scale / 2) + 1e-7f, $"weight {i}: {weight[i]} stored as {values[i]} × {scale}");
            }
        }
        finally
        {
            foreach (TorchSharp.torch.Tensor t in state.Values)
            {
                t.Dispose();
            }
        }

        // ONNX Runtime runs it close to the float32 export, and a text scores the same alone as in a padded batch: the
        // activations are quantized per block of each token, never across tokens.
        using var fp32 = new InferenceSession(Path.Combine(fixture.PoolerClassifier, "model.onnx"));
        using var int8 = new InferenceSession(scratch.OnnxPath);
        double worst = 0, worstAlone = 0;
        foreach (OnnxTestBatch batch in OnnxTestBatch.All())
        {
            float[] reference = Probabilities(batch.Run(fp32)["logits"]), batched = Probabilities(batch.Run(int8)["logits"]);
            worst = Math.Max(worst, reference.Zip(batched, (a, b) => Math.Abs(a - b)).Max());
            int labels = reference.Length / batch.Size;
            for (int r = 0; r < batch.Size; r++)
            {
                int real = (int)batch.Mask.AsSpan(r * batch.Length, batch.Length).ToArray().Sum();
                var alone = new OnnxTestBatch("alone", 1, real, batch.Ids.AsSpan(r * batch.Length, real).ToArray(),
                    batch.Mask.AsSpan(r * batch.Length, real).ToArray(), batch.Types.AsSpan(r * batch.Length, real).ToArray());
                float[] single = Probabilities(alone.Run(int8)["logits"]);
                worstAlone = Math.Max(worstAlone, single.Zip(batched.AsSpan(r * labels, labels).ToArray(), (a, b) => Math.Abs(a - b)).Max());
            }
        }

        Assert.True(worst > 0, "int8 probabilities equal float32's exactly: nothing was quantized");
        Assert.True(worst < 0.05, $"blockwise int8 moves a probability by {worst} against float32");
        Assert.True(worstAlone < 1e-4, $"a text's blockwise int8 probabilities move by {worstAlone} between alone and batched");
        Assert.True(new FileInfo(scratch.OnnxPath).Length < new FileInfo(Path.Combine(fixture.PoolerClassifier, "model.onnx")).Length * 0.32, "the blocks and their scales take about 29 % of the float32 file");
    }

    [Fact]
    public void An_explicit_module_list_is_kept_as_given_and_the_importer_refuses_the_file()
    {
        using ExportedModelsFixture.ScratchFolder scratch = fixture.NewScratch("int8-blockwise-kept");
        OnnxExporter.Export(fixture.PoolerClassifier, scratch.OnnxPath, new OnnxExportOptions
        {
            Quantization = OnnxQuantization.DynamicInt8,
            Int8Format = OnnxInt8Format.Blockwise,
            Float32Modules = ["classifier", "pooler", "encoder.layer.0.output.dense"],
        });
        GraphProto graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(scratch.OnnxPath)).Graph;
        Assert.Equal((4 * 6) - 1, graph.Node.Count(n => n.OpType == "MatMulNBits"));
        Assert.Contains(graph.Initializer, i => i.Name == OnnxLinearWriter.TransposedPrefix + "bert.encoder.layer.0.output.dense.weight");

        var e = Assert.Throws<InvalidDataException>(() => OnnxImporter.ImportToDirectory(scratch.OnnxPath, Path.Combine(scratch.Directory, "imported")));
        Assert.Contains("MatMulNBits", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(100f, 1f)]
    [InlineData(-100f, 1f)]
    [InlineData(100f, -1f)]
    public void Onnx_runtime_multiplies_the_largest_blocks_without_saturating_on_this_cpu(float activation, float weight)
    {
        // Every activation and weight of a block at its block's largest magnitude: int8 ±127 on both sides. A kernel that
        // added pairs of such products in 16 bits (x86's vpmaddubsw without VNNI) would clip 2 × 127 × 255 to 32,767 and
        // return far less than K × activation × weight.
        const int k = 64, n = 16, rows = 3;
        float[] y = RunBlockProduct([.. Enumerable.Repeat(weight, n * k)], [.. Enumerable.Repeat(activation, rows * k)], rows, n, k);
        Assert.All(y, v => Assert.Equal(k * activation * weight, v, 0.01f * k * Math.Abs(activation)));
    }

    [Fact]
    public void A_width_that_is_not_a_whole_number_of_blocks_is_padded_and_multiplies_as_the_float_weights_do()
    {
        // 40 inputs: one block of 32 and one of 8 padded with zeros (a hidden size such as 40 or 360 has such a block).
        const int k = 40, n = 8, rows = 5;
        var random = new Random(7);
        float[] weights = [.. Enumerable.Range(0, n * k).Select(_ => (float)((random.NextDouble() * 2) - 1))];
        float[] x = [.. Enumerable.Range(0, rows * k).Select(_ => (float)((random.NextDouble() * 4) - 2))];
        float[] y = RunBlockProduct(weights, x, rows, n, k);
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < n; c++)
            {
                double exact = 0, magnitude = 0;
                for (int i = 0; i < k; i++)
                {
                    exact += x[(r * k) + i] * weights[(c * k) + i];
                    magnitude += Math.Abs(x[(r * k) + i] * weights[(c * k) + i]);
                }

                Assert.True(Math.Abs(y[(r * n) + c] - exact) <= 0.02 * magnitude, $"row {r}, output {c}: {y[(r * n) + c]} against {exact}");
            }
        }
    }

    // x [rows, k] · Wᵀ for W [n, k] written as one MatMulNBits node the way the exporter writes it, run by ONNX Runtime.
    private static float[] RunBlockProduct(float[] weights, float[] x, int rows, int n, int k)
    {
        var graph = new OnnxGraphBuilder(17);
        graph.Input("x", TensorProto.Types.DataType.Float, rows, k);
        (byte[] values, float[] scales) = Int8Quantizer.Blocks(weights, n, k, Int8Quantizer.WeightBlock);
        int blocksPerRow = (k + Int8Quantizer.WeightBlock - 1) / Int8Quantizer.WeightBlock;
        string blocks = graph.UInt8s("w_blocks", values, n, blocksPerRow, Int8Quantizer.WeightBlock);
        string blockScales = graph.Floats("w_scales", scales, scales.Length);
        graph.Add("MatMulNBits", ["x", blocks, blockScales], "y", OnnxGraphBuilder.MicrosoftDomain,
            OnnxGraphBuilder.Int("K", k), OnnxGraphBuilder.Int("N", n), OnnxGraphBuilder.Int("bits", 8),
            OnnxGraphBuilder.Int("block_size", Int8Quantizer.WeightBlock), OnnxGraphBuilder.Int("accuracy_level", 4));
        graph.Output("y", TensorProto.Types.DataType.Float, rows, n);
        var model = new ModelProto { IrVersion = 8, Graph = graph.Graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 17 });
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = OnnxGraphBuilder.MicrosoftDomain, Version = 1 });

        using var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(model));
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, [rows, k]))]);
        return [.. results.Single().AsEnumerable<float>()];
    }

    // A softmax per row of the fixture classifier's three labels.
    private static float[] Probabilities(float[] logits)
    {
        const int labels = 3;
        var result = new float[logits.Length];
        for (int r = 0; r < logits.Length; r += labels)
        {
            double[] e = [.. logits.AsSpan(r, labels).ToArray().Select(v => Math.Exp(v))];
            for (int j = 0; j < labels; j++)
            {
                result[r + j] = (float)(e[j] / e.Sum());
            }
        }

        return result;
    }
}
