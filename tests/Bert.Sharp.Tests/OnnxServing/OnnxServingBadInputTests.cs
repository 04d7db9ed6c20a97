using Bert.Sharp.Onnx.Proto;
using Bert.Sharp.Tests.Onnx;
using Bert.Sharp.Tests.TestSupport;
using Google.Protobuf;

namespace Bert.Sharp.Tests.OnnxServing;

[Collection(ExportedModelsGroup.Name)]
public sealed class OnnxServingBadInputTests(ExportedModelsFixture fixture) : IDisposable
{
    private readonly string dir = TestTemp.NewDirectory("onnx-serving-bad");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void A_non_BERT_graph_is_refused_naming_the_file_and_the_missing_input()
    {
        CopyTokenizer();
        string path = Path.Combine(dir, "model.onnx");
        File.WriteAllBytes(path, AddModel());
        var e = Assert.Throws<InvalidDataException>(() => OnnxTextClassifier.FromPretrained(dir));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("input_ids", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_onnx_is_refused_naming_it()
    {
        CopyTokenizer();
        string path = Path.Combine(dir, "model.onnx");
        File.WriteAllText(path, "not a model");
        var e = Assert.Throws<InvalidDataException>(() => OnnxTextClassifier.FromPretrained(dir));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_onnx_file_is_a_FileNotFoundException()
    {
        CopyTokenizer();
        var e = Assert.Throws<FileNotFoundException>(() => OnnxTextClassifier.FromPretrained(dir));
        Assert.Contains("model.onnx", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_token_classifier_export_is_not_a_text_classifier_and_a_base_model_has_no_logits()
    {
        var token = Assert.Throws<InvalidDataException>(() => OnnxTextClassifier.FromPretrained(fixture.TokenClassifier));
        Assert.Contains("OnnxTokenClassifier", token.Message, StringComparison.Ordinal);
        var baseModel = Assert.Throws<InvalidDataException>(() => OnnxTextClassifier.FromPretrained(Path.GetDirectoryName(fixture.BaseOnnx)!));
        Assert.Contains("logits", baseModel.Message, StringComparison.Ordinal);
    }

    private void CopyTokenizer()
    {
        foreach (string file in new[] { "vocab.txt", "tokenizer_config.json", "special_tokens_map.json" })
        {
            File.Copy(Path.Combine(fixture.BaseModel, file), Path.Combine(dir, file));
        }
    }

    // y = x + w: a valid ONNX model that is not BERT.
    private static byte[] AddModel()
    {
        var graph = new GraphProto { Name = "add" };
        graph.Node.Add(new NodeProto { OpType = "Add", Input = { "x", "w" }, Output = { "y" } });
        graph.Initializer.Add(new TensorProto { Name = "w", DataType = 1, Dims = { 2 }, FloatData = { 1f, 2f } });
        var type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimValue = 2 } } } } };
        graph.Input.Add(new ValueInfoProto { Name = "x", Type = type });
        graph.Output.Add(new ValueInfoProto { Name = "y", Type = type });
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Version = 17 });
        return model.ToByteArray();
    }
}
