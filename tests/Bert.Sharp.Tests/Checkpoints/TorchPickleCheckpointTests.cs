using System.Text;
using Bert.Sharp.Checkpoints;
using Bert.Sharp.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Checkpoints;

public sealed class TorchPickleCheckpointTests : IDisposable
{
    private readonly string dir = TestTemp.NewDirectory("bin");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void FromPretrained_reads_pytorch_model_bin_written_like_torch_save()
    {
        manual_seed(21);
        using var model = new BertModel(TinyConfigs.Bert(layers: 2));
        using var writer = new TorchZipWriter();
        var entries = new List<TorchZipWriter.Entry>();
        int key = 0;
        foreach ((string name, Tensor value) in model.state_dict())
        {
            string storageKey = (key++).ToString(System.Globalization.CultureInfo.InvariantCulture);
            writer.AddStorage(storageKey, TorchZipWriter.Bytes(value));
            long[] stride = ContiguousStrides(value.shape);
            entries.Add(new(name, "FloatStorage", storageKey, value.numel(), 0, value.shape, stride));
        }

        writer.WriteStateDict(entries, archiveName: "pytorch_model");
        writer.Save(Path.Combine(dir, "pytorch_model.bin"));
        model.Config.Save(Path.Combine(dir, "config.json"));

        using var loaded = BertModel.FromPretrained(dir, new BertLoadOptions { Strict = true });
        foreach ((string name, Tensor value) in model.state_dict())
        {
            Assert.True(TensorAssert.BitEqual(value, loaded.state_dict()[name]), name);
        }
    }

    [Fact]
    public void Shared_storages_offsets_strides_and_half_precision_are_honoured()
    {
        // One float storage of 12 values holds a [2,3] tensor at offset 0 and its transpose view at offset 6.
        float[] values = Enumerable.Range(0, 12).Select(i => i * 0.5f).ToArray();
        using Tensor half = tensor(new[] { 1.5f, -2.25f, 3.0f }).to_type(ScalarType.Float16);
        using var writer = new TorchZipWriter();
        writer.AddStorage("0", values.SelectMany(BitConverter.GetBytes).ToArray());
        writer.AddStorage("1", TorchZipWriter.Bytes(half));
        writer.WriteStateDict(
        [
            new("a", "FloatStorage", "0", 12, 0, [2, 3], [3, 1]),
            new("b", "FloatStorage", "0", 12, 6, [3, 2], [1, 3]),
            new("h", "HalfStorage", "1", 3, 0, [3], [1]),
        ]);
        string path = Path.Combine(dir, "pytorch_model.bin");
        writer.Save(path);

        Dictionary<string, Tensor> state = CheckpointFiles.LoadStateDict(dir);
        Assert.Equal(new[] { 0f, 0.5f, 1f, 1.5f, 2f, 2.5f }, state["a"].data<float>().ToArray());
        // b[i, j] = storage[6 + i + 3 j]
        Assert.Equal(new[] { 3f, 4.5f, 3.5f, 5f, 4f, 5.5f }, state["b"].data<float>().ToArray());
        Assert.Equal(ScalarType.Float32, state["h"].dtype);
        Assert.Equal(new[] { 1.5f, -2.25f, 3.0f }, state["h"].data<float>().ToArray());
    }

    [Fact]
    public void Globals_outside_a_state_dict_are_refused_without_running_them()
    {
        using var writer = new TorchZipWriter();
        // cos\nsystem\n(X\x05\x00\x00\x00touch tR.
        var pickle = new List<byte> { 0x80, 2 };
        pickle.AddRange(Encoding.ASCII.GetBytes("cos\nsystem\n(X"));
        pickle.AddRange(BitConverter.GetBytes(5));
        pickle.AddRange(Encoding.ASCII.GetBytes("touch"));
        pickle.AddRange(Encoding.ASCII.GetBytes("tR."));
        writer.WriteRaw(pickle.ToArray());
        string path = Path.Combine(dir, "pytorch_model.bin");
        writer.Save(path);
        var e = Assert.Throws<InvalidDataException>(() => CheckpointFiles.LoadStateDict(dir));
        Assert.Contains("'os.system'", e.Message, StringComparison.Ordinal);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_view_past_the_end_of_its_storage_is_refused()
    {
        using var writer = new TorchZipWriter();
        writer.AddStorage("0", new byte[16]);
        writer.WriteStateDict([new("w", "FloatStorage", "0", 4, 2, [2, 2], [2, 1])]);
        writer.Save(Path.Combine(dir, "pytorch_model.bin"));
        var e = Assert.Throws<InvalidDataException>(() => CheckpointFiles.LoadStateDict(dir));
        Assert.Contains("reaches element 5 of a storage of 4", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Storage_of_the_wrong_size_is_refused()
    {
        using var writer = new TorchZipWriter();
        writer.AddStorage("0", new byte[12]);
        writer.WriteStateDict([new("w", "FloatStorage", "0", 4, 0, [4], [1])]);
        writer.Save(Path.Combine(dir, "pytorch_model.bin"));
        var e = Assert.Throws<InvalidDataException>(() => CheckpointFiles.LoadStateDict(dir));
        Assert.Contains("storage '0'", e.Message, StringComparison.Ordinal);
        Assert.Contains("12 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_a_zip_is_refused()
    {
        string path = Path.Combine(dir, "pytorch_model.bin");
        File.WriteAllBytes(path, [0x80, 0x02, 0x8a, 0x0a]);
        var e = Assert.Throws<InvalidDataException>(() => CheckpointFiles.LoadStateDict(dir));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("zip", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_pickle_is_refused()
    {
        using var writer = new TorchZipWriter();
        writer.WriteRaw([0x80, 0x02, (byte)'X', 0xff, 0, 0, 0, (byte)'a']);
        writer.Save(Path.Combine(dir, "pytorch_model.bin"));
        var e = Assert.Throws<InvalidDataException>(() => CheckpointFiles.LoadStateDict(dir));
        Assert.Contains("ends in the middle", e.Message, StringComparison.Ordinal);
    }

    private static long[] ContiguousStrides(long[] shape)
    {
        var stride = new long[shape.Length];
        long s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            stride[i] = s;
            s *= shape[i];
        }

        return stride;
    }
}
