using Bert.Sharp.Checkpoints;
using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Checkpoints;

/// <summary>
/// Malformed and crafted safetensors files and shard indexes (issue 10, items 5 and 7): each is refused with an
/// <see cref="InvalidDataException"/> that names the file and the entry, before any tensor is allocated.
/// </summary>
public sealed class SafeTensorsHostileFileTests : IDisposable
{
    private readonly string dir = TestTemp.NewDirectory("sthostile");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    [InlineData("""{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "the header names 'x' twice")]
    [InlineData("""{"__metadata__":{},"__metadata__":{}}""", 0, "the header names '__metadata__' twice")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "bytes [0, 4) between the start of the data section and tensor 'a' belong to no tensor")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12, "bytes [4, 8) between tensor 'a' (ending at 4) and tensor 'b' belong to no tensor")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 12, "the tensors cover 4 bytes of a 12-byte data section")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "tensors 'a' [0, 8] and 'b' [4, 8] overlap")]
    [InlineData("""{"a":{"dtype":"F64","shape":[4611686018427387904,4],"data_offsets":[0,8]}}""", 8, "tensor 'a' has shape [4611686018427387904, 4], too large to address")]
    [InlineData("""{"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8]}}""", 8, "tensor 'a' has shape [2305843009213693952], too large to address")]
    [InlineData("""{"a":{"dtype":"F32","shape":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25],"data_offsets":[0,0]}}""", 0, "tensor 'a' has shape [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25], too large to address")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[9223372036854775800,9223372036854775804]}}""", 4, "has data_offsets [9223372036854775800, 9223372036854775804] past the end of the data section (4 bytes)")]
    [InlineData("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, "(12 bytes) but data_offsets [0, 8] span 8 bytes")]
    public void Header_inconsistencies_are_refused_naming_file_and_entry(string header, int dataLength, string expected)
    {
        string path = Path.Combine(dir, "model.safetensors");
        RawSafeTensors.Write(path, header, new byte[dataLength]);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tensor_of_too_many_dimensions_is_refused()
    {
        string path = Path.Combine(dir, "model.safetensors");
        string shape = string.Join(",", Enumerable.Repeat("1", SafeTensors.MaxRank + 1));
        RawSafeTensors.Write(path, "{\"a\":{\"dtype\":\"F32\",\"shape\":[" + shape + "],\"data_offsets\":[0,4]}}", new byte[4]);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains($"tensor 'a' has {SafeTensors.MaxRank + 1} dimensions", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_over_the_limit_is_refused_without_reading_it()
    {
        string path = Path.Combine(dir, "model.safetensors");
        using (FileStream stream = File.Create(path))
        {
            stream.Write(BitConverter.GetBytes((ulong)SafeTensors.MaxHeaderSize + 1));
            stream.SetLength(SafeTensors.MaxHeaderSize + 16); // sparse: no disk used
        }

        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains($"exceeds the {SafeTensors.MaxHeaderSize}-byte limit", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_shard_index_naming_a_tensor_twice_is_refused()
    {
        string index = Path.Combine(dir, "model.safetensors.index.json");
        File.WriteAllText(index, """{"weight_map":{"w":"a.safetensors","w":"b.safetensors"}}""");
        var e = Assert.Throws<InvalidDataException>(() => CheckpointFiles.LoadStateDict(dir));
        Assert.Contains(index, e.Message, StringComparison.Ordinal);
        Assert.Contains("names tensor 'w' twice", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("../outside.safetensors")]
    [InlineData("a\u0000b.safetensors")]
    public void A_shard_outside_the_model_directory_is_refused(string shard)
    {
        string index = Path.Combine(dir, "model.safetensors.index.json");
        File.WriteAllText(index, System.Text.Json.JsonSerializer.Serialize(new { weight_map = new Dictionary<string, string> { ["w"] = shard } }));
        var e = Assert.Throws<InvalidDataException>(() => CheckpointFiles.LoadStateDict(dir));
        Assert.Contains(index, e.Message, StringComparison.Ordinal);
        Assert.Contains("shard '", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_shard_index_over_the_size_cap_is_refused()
    {
        string index = Path.Combine(dir, "model.safetensors.index.json");
        using (FileStream stream = File.Create(index))
        {
            stream.SetLength(CheckpointFiles.MaxIndexBytes + 1);
        }

        var e = Assert.Throws<InvalidDataException>(() => CheckpointFiles.LoadStateDict(dir));
        Assert.Contains($"a shard index is at most {CheckpointFiles.MaxIndexBytes} bytes", e.Message, StringComparison.Ordinal);
    }
}
