using Bert.Sharp.Onnx;
using Bert.Sharp.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace Bert.Sharp.Tests.Onnx;

/// <summary>What ONNX Runtime's own graph optimizer makes of the exported graph (fused operator counts).</summary>
[Collection(ExportedModelsGroup.Name)]
public sealed class OnnxFusionReportTests(ExportedModelsFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public void The_default_export_runs_on_fused_attention_skip_layer_norm_and_bias_gelu_kernels()
    {
        Dictionary<string, int> ops = OptimizedOperatorCounts(Path.Combine(fixture.PoolerClassifier, "model.onnx"));
        output.WriteLine("default (ONNX Runtime operators), after ORT_ENABLE_ALL: " + Describe(ops));
        Assert.Equal(6, ops.GetValueOrDefault("Attention"));
        Assert.Equal(12, ops.GetValueOrDefault("SkipLayerNormalization"));
        Assert.Equal(6, ops.GetValueOrDefault("BiasGelu"));
        Assert.Equal(0, ops.GetValueOrDefault("Softmax") - 1);
    }

    [Fact]
    public void The_standard_operator_export_is_what_onnx_runtime_fuses_by_itself()
    {
        using ExportedModelsFixture.ScratchFolder scratchStandard = fixture.NewScratch("standard");
        string path = scratchStandard.OnnxPath;
        OnnxExporter.Export(fixture.PoolerClassifier, path, new OnnxExportOptions { UseOnnxRuntimeOperators = false });
        Dictionary<string, int> ops = OptimizedOperatorCounts(path);
        output.WriteLine("standard operators only, after ORT_ENABLE_ALL: " + Describe(ops));
        Assert.Equal(6, ops.GetValueOrDefault("BiasGelu"));
        Assert.Equal(13, ops.GetValueOrDefault("LayerNormalization"));
    }

    [Fact]
    public void The_int8_export_runs_on_quantized_attention_and_matrix_products()
    {
        using ExportedModelsFixture.ScratchFolder scratchInt8 = fixture.NewScratch("int8");
        string path = scratchInt8.OnnxPath;
        OnnxExporter.Export(fixture.PoolerClassifier, path, new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8 });
        Dictionary<string, int> ops = OptimizedOperatorCounts(path);
        output.WriteLine("int8 (per-token activations), after ORT_ENABLE_ALL: " + Describe(ops));
        Assert.Equal(6, ops.GetValueOrDefault("MultiHeadAttention"));
        Assert.Equal((6 * 4) - 1, ops.GetValueOrDefault("MatMulIntegerToFloat")); // encoder.layer.0.output.dense stays float32 by default
        Assert.Equal(12, ops.GetValueOrDefault("SkipLayerNormalization"));

        using ExportedModelsFixture.ScratchFolder scratchInt8PerBatch = fixture.NewScratch("int8-per-batch");

        string perBatch = scratchInt8PerBatch.OnnxPath;
        OnnxExporter.Export(fixture.PoolerClassifier, perBatch, new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8, PerTokenActivations = false, PreciseFirstToken = false });
        ops = OptimizedOperatorCounts(perBatch);
        output.WriteLine("int8 (one activation scale per batch), after ORT_ENABLE_ALL: " + Describe(ops));
        Assert.Equal(6, ops.GetValueOrDefault("QAttention"));
        Assert.Equal(12, ops.GetValueOrDefault("SkipLayerNormalization"));

        // One scale per batch with the first token apart: the packed projections become a product of their own
        // (DynamicQuantizeMatMul beside the first tokens' own int8 products) and the attention MultiHeadAttention.
        using ExportedModelsFixture.ScratchFolder scratchPerBatchFirst = fixture.NewScratch("int8-per-batch-first-token");
        OnnxExporter.Export(fixture.PoolerClassifier, scratchPerBatchFirst.OnnxPath, new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8, PerTokenActivations = false });
        ops = OptimizedOperatorCounts(scratchPerBatchFirst.OnnxPath);
        Assert.Equal(6, ops.GetValueOrDefault("MultiHeadAttention"));
        Assert.Equal(2 * ((6 * 4) - 1), ops.GetValueOrDefault("DynamicQuantizeMatMul")); // the batch's product and the first tokens' remainders
    }

    private static string Describe(Dictionary<string, int> ops) => string.Join(", ", ops.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}"));

    internal static Dictionary<string, int> OptimizedOperatorCounts(string onnxPath)
    {
        string optimized = Path.ChangeExtension(onnxPath, ".optimized.onnx");
        using (var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, OptimizedModelFilePath = optimized })
        using (var session = new InferenceSession(onnxPath, options))
        {
        }

        ModelProto model = OnnxModelReader.Read(File.ReadAllBytes(optimized), optimized);
        File.Delete(optimized);
        return model.Graph.Node.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());
    }
}
