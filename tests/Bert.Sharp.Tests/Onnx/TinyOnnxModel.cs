using Bert.Sharp.Tests.TestSupport;
using TorchSharp;

namespace Bert.Sharp.Tests.Onnx;

/// <summary>A tiny random BERT (2 layers, hidden 16) saved and exported, for bad-input and fuzz tests.</summary>
internal static class TinyOnnxModel
{
    private static readonly Lazy<(string Folder, byte[] Onnx)> Model = new(Create);

    /// <summary>The saved Hugging Face folder of the tiny model (shared; do not modify).</summary>
    public static string Folder => Model.Value.Folder;

    /// <summary>The float32 export (standard operators), as bytes.</summary>
    public static byte[] StandardOnnx => Model.Value.Onnx;

    private static (string, byte[]) Create()
    {
        string folder = TestTemp.NewDirectory("tiny-bert");
        torch.manual_seed(5);
        using (var model = new BertModel(TinyConfigs.Bert(layers: 2, hidden: 16, heads: 2, vocab: 40, maxPositions: 16), addPoolingLayer: true))
        {
            model.SavePretrained(folder);
        }

        string onnx = Path.Combine(folder, "standard.onnx");
        OnnxExporter.Export(folder, onnx, new OnnxExportOptions { UseOnnxRuntimeOperators = false });
        return (folder, File.ReadAllBytes(onnx));
    }
}
