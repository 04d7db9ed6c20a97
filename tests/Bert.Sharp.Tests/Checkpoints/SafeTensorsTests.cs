using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Bert.Sharp.Checkpoints;
using Bert.Sharp.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Checkpoints;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string dir = TestTemp.NewDirectory("st");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Round_trip_is_bit_exact_for_every_dtype()
    {
        manual_seed(3);
        var tensors = new Dictionary<string, Tensor>
        {
            ["f32"] = randn(3, 5),
            ["f64"] = randn(4, dtype: ScalarType.Float64),
            ["f16"] = randn(2, 3).to_type(ScalarType.Float16),
            ["bf16"] = randn(2, 3).to_type(ScalarType.BFloat16),
            ["i64"] = arange(7L),
            ["i32"] = arange(3, dtype: ScalarType.Int32),
            ["u8"] = tensor(new byte[] { 1, 2, 255 }),
            ["bool"] = tensor(new[] { true, false }),
            ["scalar"] = tensor(3.5f),
            ["empty"] = zeros(0, 4),
        };
        string path = Path.Combine(dir, "all.safetensors");
        SafeTensors.Save(path, tensors);
        Dictionary<string, Tensor> loaded = SafeTensors.Load(path, dtype: null);
        Assert.Equal(tensors.Keys.Order(), loaded.Keys.Order());
        foreach ((string name, Tensor original) in tensors)
        {
            Tensor back = loaded[name];
            Assert.Equal(original.dtype, back.dtype);
            Assert.Equal(original.shape, back.shape);
            Assert.True(original.bytes.SequenceEqual(back.bytes), $"{name} differs");
        }

        Assert.Equal("pt", SafeTensors.ReadMetadata(path)["format"]);
    }

    [Fact]
    public void Written_header_is_sorted_aligned_and_contiguous()
    {
        string path = Path.Combine(dir, "h.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["b"] = ones(3), ["a"] = zeros(2, 2) }, new Dictionary<string, string> { ["note"] = "x" });
        byte[] bytes = File.ReadAllBytes(path);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, (8 + headerLength) % 8);
        using var json = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength).TrimEnd());
        string[] keys = json.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(["__metadata__", "a", "b"], keys);
        Assert.Equal("x", json.RootElement.GetProperty("__metadata__").GetProperty("note").GetString());
        Assert.Equal(0, json.RootElement.GetProperty("a").GetProperty("data_offsets")[0].GetInt64());
        Assert.Equal(16, json.RootElement.GetProperty("b").GetProperty("data_offsets")[0].GetInt64());
        Assert.Equal(8 + headerLength + 28, bytes.Length);
        Assert.DoesNotContain(Directory.GetFiles(dir), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("F16", ScalarType.Float16)]
    [InlineData("BF16", ScalarType.BFloat16)]
    [InlineData("F64", ScalarType.Float64)]
    public void Half_and_double_tensors_are_converted_to_float32(string name, ScalarType type)
    {
        manual_seed(4);
        using Tensor reference = randn(64) * 3;
        using Tensor stored = reference.to_type(type);
        string path = Path.Combine(dir, $"{name}.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = stored });
        Assert.Equal(name, JsonDocument.Parse(File.ReadAllBytes(path).AsMemory(8, (int)BinaryPrimitives.ReadUInt64LittleEndian(File.ReadAllBytes(path))))
            .RootElement.GetProperty("w").GetProperty("dtype").GetString());
        Dictionary<string, Tensor> loaded = SafeTensors.Load(path);
        Tensor w = loaded["w"];
        Assert.Equal(ScalarType.Float32, w.dtype);
        using Tensor expected = reference.to_type(type).to_type(ScalarType.Float32);
        Assert.True(expected.bytes.SequenceEqual(w.bytes));
        if (type != ScalarType.Float64)
        {
            Assert.False(TensorAssert.BitEqual(reference, w), "rounding should have changed some values");
        }
    }

    [Fact]
    public void Hand_written_file_reads_the_exact_values()
    {
        byte[] data = new byte[8];
        BinaryPrimitives.WriteSingleLittleEndian(data, 1.5f);
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4), -2.25f);
        string path = Path.Combine(dir, "hand.safetensors");
        RawSafeTensors.Write(path, """{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", data);
        Tensor x = SafeTensors.Load(path)["x"];
        Assert.Equal(new[] { 1.5f, -2.25f }, x.data<float>().ToArray());
    }

    [Fact]
    public void Truncated_file_is_rejected()
    {
        string good = Path.Combine(dir, "good.safetensors");
        SafeTensors.Save(good, new Dictionary<string, Tensor> { ["w"] = ones(100) });
        byte[] bytes = File.ReadAllBytes(good);
        string path = Path.Combine(dir, "truncated.safetensors");
        File.WriteAllBytes(path, bytes[..^40]);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("'w'", e.Message, StringComparison.Ordinal);

        File.WriteAllBytes(path, bytes[..5]);
        e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains("8-byte", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Header_length_past_end_of_file_is_rejected()
    {
        string path = Path.Combine(dir, "len.safetensors");
        RawSafeTensors.Write(path, """{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", new byte[4], headerLengthOverride: 1UL << 40);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains("runs past the end", e.Message, StringComparison.Ordinal);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{not json", "not valid JSON")]
    [InlineData("[1,2,3]", "not an object")]
    [InlineData("""{"x":{"dtype":"F32","shape":[1]}}""", "'data_offsets'")]
    [InlineData("""{"x":{"shape":[1],"data_offsets":[0,4]}}""", "'dtype'")]
    [InlineData("""{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", "negative dimension")]
    [InlineData("""{"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}""", "non-integer")]
    [InlineData("""{"__metadata__":{"format":3}}""", "metadata 'format'")]
    public void Bad_json_header_is_rejected(string header, string expected)
    {
        string path = Path.Combine(dir, "bad.safetensors");
        RawSafeTensors.Write(path, header, new byte[4]);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Offsets_out_of_range_are_rejected()
    {
        string path = Path.Combine(dir, "range.safetensors");
        RawSafeTensors.Write(path, """{"x":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}""", new byte[16]);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains("'x'", e.Message, StringComparison.Ordinal);
        Assert.Contains("past the end of the data section", e.Message, StringComparison.Ordinal);

        RawSafeTensors.Write(path, """{"x":{"dtype":"F32","shape":[4],"data_offsets":[12,4]}}""", new byte[16]);
        e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains("invalid data_offsets [12, 4]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Size_that_disagrees_with_shape_is_rejected()
    {
        string path = Path.Combine(dir, "size.safetensors");
        RawSafeTensors.Write(path, """{"x":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}}""", new byte[24]);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains("shape [2, 3]", e.Message, StringComparison.Ordinal);
        Assert.Contains("24 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Overlapping_offsets_are_rejected()
    {
        string path = Path.Combine(dir, "overlap.safetensors");
        RawSafeTensors.Write(path, """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", new byte[12]);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains("'a'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'b'", e.Message, StringComparison.Ordinal);
        Assert.Contains("overlap", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_dtype_is_rejected()
    {
        string path = Path.Combine(dir, "dtype.safetensors");
        RawSafeTensors.Write(path, """{"x":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}}""", new byte[4]);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains("'F8_E4M3'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'x'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_names_the_path()
    {
        string path = Path.Combine(dir, "nope.safetensors");
        var e = Assert.Throws<FileNotFoundException>(() => SafeTensors.Load(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }
}
