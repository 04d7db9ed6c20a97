using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Bert.Sharp.Checkpoints;
using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Checkpoints;

/// <summary>
/// The <c>pytorch_model.bin</c> defects measured by the attack on 11e83b9 (issue 10, item 5), as regression tests: tiny
/// files that asked for gigabytes or minutes must now be refused quickly, with the file named.
/// </summary>
public sealed class TorchPickleHostileFileTests : IDisposable
{
    private readonly string dir = TestTemp.NewDirectory("binhostile");

    private string BinPath => Path.Combine(dir, "pytorch_model.bin");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void A_stride0_view_with_more_elements_than_its_storage_is_refused_before_allocating()
    {
        using var writer = new TorchZipWriter();
        writer.AddStorage("0", new byte[4]);
        writer.WriteStateDict([new("w", "FloatStorage", "0", 1, 0, [1_000_000_000], [0])]);
        writer.Save(BinPath);
        var e = Assert.Throws<InvalidDataException>(() => TorchPickleCheckpoint.Load(BinPath));
        Assert.Contains(BinPath, e.Message, StringComparison.Ordinal);
        Assert.Contains("more elements than its storage '0' holds (1)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_overlapping_view_within_the_element_count_of_its_storage_still_loads()
    {
        // A [2, 2] view with strides [1, 1] of a 4-element storage touches elements 0..2 and repeats one: allowed, as torch does.
        using var writer = new TorchZipWriter();
        writer.AddStorage("0", new[] { 1f, 2f, 3f, 4f }.SelectMany(BitConverter.GetBytes).ToArray());
        writer.WriteStateDict([new("w", "FloatStorage", "0", 4, 0, [2, 2], [1, 1])]);
        writer.Save(BinPath);
        Dictionary<string, TorchSharp.torch.Tensor> state = TorchPickleCheckpoint.Load(BinPath);
        Assert.Equal(new[] { 1f, 2f, 2f, 3f }, state["w"].data<float>().ToArray());
        state["w"].Dispose();
    }

    [Fact]
    public void An_empty_view_whose_strides_would_overflow_is_refused()
    {
        // Found by the safetensors soak: torch computes contiguous strides even for a tensor of 0 elements.
        using var writer = new TorchZipWriter();
        writer.AddStorage("0", []);
        long[] size = [0, .. Enumerable.Range(1, 25).Select(i => (long)i)];
        writer.WriteStateDict([new("w", "FloatStorage", "0", 0, 0, size, new long[size.Length])]);
        writer.Save(BinPath);
        var e = Assert.Throws<InvalidDataException>(() => TorchPickleCheckpoint.Load(BinPath));
        Assert.Contains("whose strides overflow", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Many_views_of_one_storage_beyond_the_element_budget_are_refused()
    {
        using var writer = new TorchZipWriter();
        writer.AddStorage("0", new byte[400]);
        writer.WriteStateDict(Enumerable.Range(0, 5).Select(i => new TorchZipWriter.Entry($"w{i}", "FloatStorage", "0", 100, 0, [100], [1])));
        writer.Save(BinPath);
        var e = Assert.Throws<InvalidDataException>(() => TorchPickleCheckpoint.Load(BinPath));
        Assert.Contains("the tensors up to 'w4' hold 500 elements, more than 4× the 100 elements", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_compressed_storage_entry_is_refused()
    {
        using var writer = new TorchZipWriter { StorageCompression = CompressionLevel.Optimal };
        writer.AddStorage("0", new byte[4096]);
        writer.WriteStateDict([new("w", "FloatStorage", "0", 1024, 0, [1024], [1])]);
        writer.Save(BinPath);
        var e = Assert.Throws<InvalidDataException>(() => TorchPickleCheckpoint.Load(BinPath));
        Assert.Contains(BinPath, e.Message, StringComparison.Ordinal);
        Assert.Contains("storage entry 'archive/data/0' is compressed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_declared_storage_size_that_overflows_is_refused_naming_the_key()
    {
        using var writer = new TorchZipWriter();
        writer.AddStorage("big", new byte[8]);
        writer.WriteStateDict([new("w", "LongStorage", "big", long.MaxValue / 4, 0, [1], [1])]);
        writer.Save(BinPath);
        var e = Assert.Throws<InvalidDataException>(() => TorchPickleCheckpoint.Load(BinPath));
        Assert.Contains($"storage 'big' is declared as {long.MaxValue / 4} elements of Int64", e.Message, StringComparison.Ordinal);
        Assert.Contains("has 8 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_deflated_pickle_that_lies_about_its_size_is_not_expanded()
    {
        // 4 MB of a pickle deflated to a few kilobytes (the 3 MB bomb of the attack became 4.3 GB), its declared size
        // forged to 100 bytes: no more than the declared size (and never more than the cap) is expanded.
        using var writer = new TorchZipWriter { PickleCompression = CompressionLevel.Fastest };
        writer.WriteRaw(new byte[4 << 20]);
        writer.Save(BinPath);
        ForgeFirstEntrySize(BinPath, 100);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => TorchPickleCheckpoint.Load(BinPath));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains(BinPath, e.Message, StringComparison.Ordinal);
        Assert.Contains("pickle opcode 0x00 at byte 0", e.Message, StringComparison.Ordinal);
        Assert.True(allocated < (1 << 20), $"{allocated} bytes allocated");
    }

    [Fact]
    public void A_deflated_pickle_declared_beyond_the_cap_is_refused_unread()
    {
        using var writer = new TorchZipWriter { PickleCompression = CompressionLevel.Fastest };
        writer.WriteRaw(new byte[4 << 20]);
        writer.Save(BinPath);
        long limit = TorchPickleCheckpoint.PickleLimit(new FileInfo(BinPath).Length);
        var e = Assert.Throws<InvalidDataException>(() => TorchPickleCheckpoint.Load(BinPath));
        Assert.Contains($"'archive/data.pkl' declares {4 << 20} bytes, more than the {limit}-byte limit", e.Message, StringComparison.Ordinal);
        Assert.Contains(BinPath, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dict_of_400k_keys_is_read_in_linear_time_then_refused_by_the_element_budget()
    {
        // Once 353 s (a linear scan per insert). Every key maps to the same memoized 1-element tensor.
        using var writer = new TorchZipWriter();
        writer.AddStorage("0", new byte[4]);
        writer.WriteRaw(HugeDictPickle(400_000));
        writer.Save(BinPath);
        var e = Assert.Throws<InvalidDataException>(() => TorchPickleCheckpoint.Load(BinPath));
        Assert.Contains("more than 4× the 1 elements", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_written_twice_is_refused_naming_it()
    {
        using var writer = new TorchZipWriter();
        writer.AddStorage("0", new byte[4]);
        writer.WriteStateDict([new("w", "FloatStorage", "0", 1, 0, [1], [1]), new("w", "FloatStorage", "0", 1, 0, [1], [1])]);
        writer.Save(BinPath);
        var e = Assert.Throws<InvalidDataException>(() => TorchPickleCheckpoint.Load(BinPath));
        Assert.Contains("key 'w' appears twice", e.Message, StringComparison.Ordinal);
        Assert.Contains(BinPath, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_storage_used_with_two_types_is_refused()
    {
        using var writer = new TorchZipWriter();
        writer.AddStorage("0", new byte[8]);
        writer.WriteStateDict([new("a", "FloatStorage", "0", 2, 0, [2], [1]), new("b", "HalfStorage", "0", 4, 0, [4], [1])]);
        writer.Save(BinPath);
        var e = Assert.Throws<InvalidDataException>(() => TorchPickleCheckpoint.Load(BinPath));
        Assert.Contains("storage '0' is used as 2 × Float32 and as 4 × Float16", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deep_marks_and_long_stacks_hit_their_caps()
    {
        using var marks = new TorchZipWriter();
        marks.WriteRaw([0x80, 2, .. Enumerable.Repeat((byte)'(', RestrictedUnpickler.MaxMarks + 1)]);
        marks.Save(BinPath);
        var e = Assert.Throws<InvalidDataException>(() => TorchPickleCheckpoint.Load(BinPath));
        Assert.Contains($"nests more than {RestrictedUnpickler.MaxMarks} MARKs", e.Message, StringComparison.Ordinal);

        File.Delete(BinPath);
        using var stack = new TorchZipWriter();
        stack.WriteRaw([0x80, 2, .. Enumerable.Repeat((byte)'N', RestrictedUnpickler.MaxStack + 1)]);
        stack.Save(BinPath);
        e = Assert.Throws<InvalidDataException>(() => TorchPickleCheckpoint.Load(BinPath));
        Assert.Contains($"grows past {RestrictedUnpickler.MaxStack} objects", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Big_endian_checkpoints_are_refused()
    {
        using var writer = new TorchZipWriter();
        writer.AddStorage("0", new byte[4]);
        writer.WriteStateDict([new("w", "FloatStorage", "0", 1, 0, [1], [1])]);
        writer.Save(BinPath);
        using (ZipArchive zip = ZipFile.Open(BinPath, ZipArchiveMode.Update))
        {
            using Stream s = zip.CreateEntry("archive/byteorder", CompressionLevel.NoCompression).Open();
            s.Write("big"u8);
        }

        var e = Assert.Throws<InvalidDataException>(() => TorchPickleCheckpoint.Load(BinPath));
        Assert.Contains("'big' byte order", e.Message, StringComparison.Ordinal);
    }

    /// <summary>{key_i: t for i in range(count)} with t built once and fetched from the memo: about 12 bytes a key.</summary>
    private static byte[] HugeDictPickle(int count)
    {
        var p = new List<byte> { 0x80, 2, (byte)'}', (byte)'(' };
        p.AddRange(Encoding.ASCII.GetBytes("ctorch._utils\n_rebuild_tensor_v2\n"));
        p.Add((byte)'(');
        p.Add((byte)'(');
        AddShortUnicode(p, "storage");
        p.AddRange(Encoding.ASCII.GetBytes("ctorch\nFloatStorage\n"));
        AddShortUnicode(p, "0");
        AddShortUnicode(p, "cpu");
        p.AddRange([(byte)'K', 1, (byte)'t', (byte)'Q', (byte)'K', 0, (byte)'K', 1, 0x85, (byte)'K', 1, 0x85, 0x89, (byte)'N', (byte)'t', (byte)'R']);
        p.AddRange([(byte)'r', 0, 0, 0, 0, (byte)'0']); // LONG_BINPUT 0, POP
        for (int i = 0; i < count; i++)
        {
            AddShortUnicode(p, $"k{i}");
            p.AddRange([(byte)'j', 0, 0, 0, 0]); // LONG_BINGET 0
        }

        p.AddRange([(byte)'u', (byte)'.']);
        return p.ToArray();
    }

    private static void AddShortUnicode(List<byte> p, string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        p.Add(0x8c);
        p.Add((byte)bytes.Length);
        p.AddRange(bytes);
    }

    // The first entry's uncompressed size, in its local header and in the central directory.
    private static void ForgeFirstEntrySize(string path, uint size)
    {
        byte[] zip = File.ReadAllBytes(path);
        BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(22), size);
        int central = zip.AsSpan().IndexOf((ReadOnlySpan<byte>)[0x50, 0x4b, 0x01, 0x02]);
        BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(central + 24), size);
        File.WriteAllBytes(path, zip);
    }
}
