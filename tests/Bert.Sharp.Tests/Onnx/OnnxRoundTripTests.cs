using Bert.Sharp.Checkpoints;
using Bert.Sharp.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Onnx;

/// <summary>Importing what the exporter wrote gives back the same encoder weights, bit for bit.</summary>
[Collection(ExportedModelsGroup.Name)]
public sealed class OnnxRoundTripTests(ExportedModelsFixture fixture)
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Import_of_an_export_gives_back_the_same_weights(bool onnxRuntimeOperators)
    {
        string onnx = fixture.BaseOnnx;
        using ExportedModelsFixture.ScratchFolder scratch = fixture.NewScratch("roundtrip-standard");
        if (!onnxRuntimeOperators)
        {
            onnx = scratch.OnnxPath;
            OnnxExporter.Export(fixture.BaseModel, onnx, new OnnxExportOptions { UseOnnxRuntimeOperators = false });
        }

        string imported = TestTemp.NewDirectory("onnx-roundtrip");
        try
        {
            OnnxImporter.ImportToDirectory(onnx, imported, Path.Combine(fixture.BaseModel, "vocab.txt"));
            Dictionary<string, Tensor> original = SafeTensors.Load(Path.Combine(fixture.BaseModel, "model.safetensors"));
            Dictionary<string, Tensor> back = SafeTensors.Load(Path.Combine(imported, "model.safetensors"));
            try
            {
                Assert.Equal(original.Keys.Order(), back.Keys.Order());
                foreach ((string key, Tensor tensor) in original)
                {
                    Assert.True(tensor.shape.SequenceEqual(back[key].shape) && (tensor == back[key]).all().item<bool>(), $"{key} differs after export and import");
                }

                BertConfig a = BertConfig.Load(fixture.BaseModel), b = BertConfig.Load(imported);
                Assert.Equal((a.NumHiddenLayers, a.HiddenSize, a.NumAttentionHeads, a.IntermediateSize, a.HiddenAct, a.LayerNormEps), (b.NumHiddenLayers, b.HiddenSize, b.NumAttentionHeads, b.IntermediateSize, b.HiddenAct, b.LayerNormEps));
            }
            finally
            {
                foreach (Tensor t in original.Values.Concat(back.Values))
                {
                    t.Dispose();
                }
            }
        }
        finally
        {
            Directory.Delete(imported, recursive: true);
        }
    }

    [Fact]
    public void An_int8_export_is_refused_by_the_importer_with_a_clear_message()
    {
        using ExportedModelsFixture.ScratchFolder scratchRoundtripInt8 = fixture.NewScratch("roundtrip-int8");
        string onnx = scratchRoundtripInt8.OnnxPath;
        OnnxExporter.Export(fixture.BaseModel, onnx, new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8 });
        var e = Assert.Throws<InvalidDataException>(() => OnnxImporter.ImportToDirectory(onnx, Path.Combine(fixture.Root, "never")));
        Assert.Contains("quantized", e.Message, StringComparison.Ordinal);
        Assert.Contains(onnx, e.Message, StringComparison.Ordinal);
    }
}
