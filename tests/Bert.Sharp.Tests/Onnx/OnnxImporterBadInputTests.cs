using Bert.Sharp.Tests.TestSupport;
using Google.Protobuf;

namespace Bert.Sharp.Tests.Onnx;

public sealed class OnnxImporterBadInputTests : IDisposable
{
    private readonly string dir = TestTemp.NewDirectory("onnx-bad");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Random_bytes_are_rejected_naming_the_file()
    {
        string path = Path.Combine(dir, "random.onnx");
        var bytes = new byte[4096];
        new Random(7).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => OnnxImporter.ImportToDirectory(path, Path.Combine(dir, "out")));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(dir, "out")));
    }

    [Fact]
    public void Empty_file_is_rejected()
    {
        string path = Path.Combine(dir, "empty.onnx");
        File.WriteAllBytes(path, []);
        var e = Assert.Throws<InvalidDataException>(() => OnnxImporter.ImportToDirectory(path, Path.Combine(dir, "out")));
        Assert.Contains("not an ONNX model", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_valid_onnx_graph_that_is_not_BERT_is_rejected_saying_what_is_missing()
    {
        string path = Path.Combine(dir, "add.onnx");
        File.WriteAllBytes(path, TinyAddModel());
        var e = Assert.Throws<InvalidDataException>(() => OnnxImporter.ImportToDirectory(path, Path.Combine(dir, "out")));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("not a BERT export", e.Message, StringComparison.Ordinal);
        Assert.Contains("embeddings.word_embeddings.weight", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1_000_000)]
    [InlineData(45_000_000)]
    [InlineData(90_000_000)]
    public void Truncated_onnx_file_is_rejected(int keep)
    {
        string path = Path.Combine(dir, "truncated.onnx");
        using (FileStream source = File.OpenRead(TestAssets.MiniLmOnnxPath))
        using (FileStream target = File.Create(path))
        {
            var buffer = new byte[keep];
            source.ReadExactly(buffer);
            target.Write(buffer);
        }

        var e = Assert.Throws<InvalidDataException>(() => OnnxImporter.ImportToDirectory(path, Path.Combine(dir, "out")));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dir, "out", "model.safetensors")));
    }

    [Fact]
    public void Missing_onnx_file_is_a_FileNotFoundException()
    {
        string path = Path.Combine(dir, "absent.onnx");
        var e = Assert.Throws<FileNotFoundException>(() => OnnxImporter.ImportToDirectory(path, Path.Combine(dir, "out")));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    // ModelProto { ir_version: 7, graph { node { Add(x, w) -> y }, initializer w: float[2], input x, output y } }.
    private static byte[] TinyAddModel()
    {
        byte[] node = Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteString("x");
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteString("w");
            o.WriteTag(2, WireFormat.WireType.LengthDelimited);
            o.WriteString("y");
            o.WriteTag(4, WireFormat.WireType.LengthDelimited);
            o.WriteString("Add");
        });
        byte[] initializer = Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.Varint);
            o.WriteInt64(2);
            o.WriteTag(2, WireFormat.WireType.Varint);
            o.WriteInt32(1);
            o.WriteTag(8, WireFormat.WireType.LengthDelimited);
            o.WriteString("w");
            o.WriteTag(9, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(new byte[8]));
        });
        byte[] input = Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteString("x");
        });
        byte[] output = Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteString("y");
        });
        byte[] graph = Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(node));
            o.WriteTag(5, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(initializer));
            o.WriteTag(11, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(input));
            o.WriteTag(12, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(output));
        });
        return Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.Varint);
            o.WriteInt64(7);
            o.WriteTag(7, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(graph));
        });
    }

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var output = new CodedOutputStream(buffer, leaveOpen: true))
        {
            write(output);
        }

        return buffer.ToArray();
    }
}
