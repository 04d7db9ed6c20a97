using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Onnx;

public sealed class OnnxExporterBadInputTests : IDisposable
{
    private readonly string dir = TestTemp.NewDirectory("onnx-export-bad");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void A_folder_without_weights_is_a_FileNotFoundException_naming_it()
    {
        string folder = Path.Combine(dir, "no-weights");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(TinyOnnxModel.Folder, "config.json"), Path.Combine(folder, "config.json"));
        string target = Path.Combine(dir, "out.onnx");
        var e = Assert.Throws<FileNotFoundException>(() => OnnxExporter.Export(folder, target));
        Assert.Contains(folder, e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(target));
    }

    [Fact]
    public void A_missing_folder_is_a_DirectoryNotFoundException() =>
        Assert.Throws<DirectoryNotFoundException>(() => OnnxExporter.Export(Path.Combine(dir, "absent"), Path.Combine(dir, "out.onnx")));

    [Theory]
    [InlineData("""{"model_type": "deberta-v2", "architectures": ["DebertaV2Model"]}""", "deberta-v2")]
    [InlineData("""{"model_type": "distilbert", "architectures": ["DistilBertForMaskedLM"], "dim": 768}""", "DistilBertForMaskedLM")]
    [InlineData("""{"model_type": "bert", "architectures": ["BertForMaskedLM"]}""", "BertForMaskedLM")]
    public void An_unsupported_architecture_is_named(string config, string named)
    {
        string folder = Path.Combine(dir, "unsupported");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), config);
        File.Copy(Path.Combine(TinyOnnxModel.Folder, "model.safetensors"), Path.Combine(folder, "model.safetensors"));
        var e = Assert.Throws<NotSupportedException>(() => OnnxExporter.Export(folder, Path.Combine(dir, "out.onnx")));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
        Assert.Contains(folder, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_LoRA_adapter_folder_without_merged_weights_is_refused()
    {
        string folder = Path.Combine(dir, "adapter");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "adapter_config.json"), """{"peft_type": "LORA", "r": 8}""");
        File.WriteAllBytes(Path.Combine(folder, "adapter_model.safetensors"), [0]);
        var e = Assert.Throws<NotSupportedException>(() => OnnxExporter.Export(folder, Path.Combine(dir, "out.onnx")));
        Assert.Contains("LoRA adapter", e.Message, StringComparison.Ordinal);
        Assert.Contains(folder, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unwritable_path_is_an_IOException_naming_it_and_leaves_nothing_behind()
    {
        string file = Path.Combine(dir, "a-file");
        File.WriteAllText(file, "not a folder");
        string target = Path.Combine(file, "model.onnx");
        var e = Assert.ThrowsAny<IOException>(() => OnnxExporter.Export(TinyOnnxModel.Folder, target));
        Assert.Contains(target, e.Message, StringComparison.Ordinal);
        Assert.Equal([file], Directory.GetFileSystemEntries(dir));
    }

    [Fact]
    public void An_opset_below_17_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxExporter.Export(TinyOnnxModel.Folder, Path.Combine(dir, "out.onnx"), new OnnxExportOptions { Opset = 13 }));

    [Fact]
    public void A_classifier_whose_labels_do_not_fit_its_head_is_refused_naming_the_folder()
    {
        string folder = Path.Combine(dir, "bad-labels");
        Directory.CreateDirectory(folder);
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(TinyOnnxModel.Folder, "config.json")))!.AsObject();
        config["architectures"] = new System.Text.Json.Nodes.JsonArray("BertForSequenceClassification");
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());
        File.Copy(Path.Combine(TinyOnnxModel.Folder, "model.safetensors"), Path.Combine(folder, "model.safetensors"));
        var e = Assert.Throws<InvalidDataException>(() => OnnxExporter.Export(folder, Path.Combine(dir, "out.onnx")));
        Assert.Contains("classifier.weight", e.Message, StringComparison.Ordinal);
        Assert.Contains(folder, e.Message, StringComparison.Ordinal);
    }
}
