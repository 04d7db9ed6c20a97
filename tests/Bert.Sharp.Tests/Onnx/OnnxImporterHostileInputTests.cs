using Bert.Sharp.Onnx.Proto;
using Bert.Sharp.Tests.TestSupport;
using Google.Protobuf;

namespace Bert.Sharp.Tests.Onnx;

/// <summary>Hand-made hostile .onnx files: each is refused with an InvalidDataException naming the file and the initializer.</summary>
public sealed class OnnxImporterHostileInputTests : IDisposable
{
    private const string Target = "embeddings.word_embeddings.weight";
    private readonly string dir = TestTemp.NewDirectory("onnx-hostile");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Huge_declared_dims_are_refused_before_any_allocation() => AssertRefused(t =>
    {
        t.Dims.Clear();
        t.Dims.Add([1L << 40, 1L << 40]);
    }, "elements");

    [Fact]
    public void Negative_dims_are_refused() => AssertRefused(t => t.Dims[0] = -3, "negative");

    [Fact]
    public void Raw_data_shorter_than_the_dims_say_is_refused() => AssertRefused(t => t.RawData = ByteString.CopyFrom(t.RawData.Span[..100]), "bytes of raw_data");

    [Fact]
    public void An_external_data_reference_is_refused() => AssertRefused(t =>
    {
        t.RawData = ByteString.Empty;
        t.DataLocation = TensorProto.Types.DataLocation.External;
        t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "../../etc/passwd" });
    }, "external data");

    [Fact]
    public void Deep_nesting_is_refused_naming_the_file()
    {
        // A graph inside an attribute inside a node inside a graph ... 200 levels deep.
        var graph = new GraphProto { Name = "leaf" };
        for (int i = 0; i < 200; i++)
        {
            var node = new NodeProto { OpType = "If" };
            node.Attribute.Add(new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = graph });
            graph = new GraphProto { Name = $"level{i}" };
            graph.Node.Add(node);
        }

        string path = Path.Combine(dir, "deep.onnx");
        File.WriteAllBytes(path, new ModelProto { IrVersion = 8, Graph = graph }.ToByteArray());
        var e = Assert.Throws<InvalidDataException>(() => OnnxImporter.ImportToDirectory(path, Path.Combine(dir, "out")));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(dir, "out")));
    }

    private void AssertRefused(Action<TensorProto> corrupt, string expected)
    {
        ModelProto model = ModelProto.Parser.ParseFrom(TinyOnnxModel.StandardOnnx);
        corrupt(model.Graph.Initializer.Single(t => t.Name == Target));
        string path = Path.Combine(dir, "hostile.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        var e = Assert.Throws<InvalidDataException>(() => OnnxImporter.ImportToDirectory(path, Path.Combine(dir, "out")));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(Target, e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(dir, "out")));
    }
}
