using System.Text.Json;
using Bert.Sharp.Checkpoints;
using Bert.Sharp.Tests.TestSupport;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Checkpoints;

/// <summary>
/// Files written by a real <c>torch.save</c> (PyTorch 1.13; <c>Fixtures/make_fixtures.py</c> regenerates them): a small
/// state dict must load bit-exactly, and the hostile files of issue 10 must be refused without allocating.
/// </summary>
public sealed class TorchSaveFixtureTests : IDisposable
{
    private readonly string dir = TestTemp.NewDirectory("torchsave");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void A_real_torch_save_state_dict_loads_bit_exactly()
    {
        Dictionary<string, Tensor> state = TorchPickleCheckpoint.Load(Fixture("state_dict.pt.fixture"));
        try
        {
            using JsonDocument expected = JsonDocument.Parse(File.ReadAllText(Fixture("state_dict.expected.json")));
            Assert.Equal(
                expected.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal),
                state.Keys.Order(StringComparer.Ordinal));
            foreach (JsonProperty entry in expected.RootElement.EnumerateObject())
            {
                Tensor actual = state[entry.Name];
                long[] shape = entry.Value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
                Assert.Equal(shape, actual.shape);
                string dtype = entry.Value.GetProperty("dtype").GetString()!;
                long[] bits = entry.Value.GetProperty("bits").EnumerateArray().Select(x => x.GetInt64()).ToArray();
                Assert.Equal(bits, Bits(actual, dtype));
            }

            // Tied weights share one storage in the file; here each key owns its tensor.
            Assert.True(TensorAssert.BitEqual(state["embeddings.word_embeddings.weight"], state["cls.predictions.decoder.weight"]));
            Assert.Equal(ScalarType.Float32, state["encoder.half"].dtype);
            Assert.Equal(ScalarType.Float32, state["encoder.bf16"].dtype);
            Assert.Equal(ScalarType.Int64, state["embeddings.position_ids"].dtype);
            Assert.Equal(ScalarType.Bool, state["encoder.mask"].dtype);
        }
        finally
        {
            foreach (Tensor t in state.Values)
            {
                t.Dispose();
            }
        }
    }

    [Fact]
    public void The_real_state_dict_loads_through_the_directory_loader_as_pytorch_model_bin()
    {
        File.Copy(Fixture("state_dict.pt.fixture"), Path.Combine(dir, "pytorch_model.bin"));
        Dictionary<string, Tensor> state = CheckpointFiles.LoadStateDict(dir);
        Assert.Equal(10, state.Count);
        Assert.Equal(new long[] { 1, 8 }, state["embeddings.position_ids"].shape);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (long)i), state["embeddings.position_ids"].data<long>().ToArray());
        foreach (Tensor t in state.Values)
        {
            t.Dispose();
        }
    }

    [Theory]
    [InlineData("hostile_stride0.pt.fixture", "a tensor of size [1000000000] and stride [0] at offset 0 has more elements than its storage '0' holds (1)")]
    [InlineData("hostile_three_stride0.pt.fixture", "has more elements than its storage '0' holds (1)")]
    [InlineData("hostile_beyond_storage.pt.fixture", "a tensor of size [10] and stride [1] at offset 2 has more elements than its storage '0' holds (4)")]
    public void Hostile_torch_save_files_are_refused_before_anything_is_allocated(string name, string expected)
    {
        string path = Fixture(name);
        var e = Assert.Throws<InvalidDataException>(() => TorchPickleCheckpoint.Load(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    internal static string Fixture(string name) => RepositoryPaths.Combine("tests", "Bert.Sharp.Tests", "Checkpoints", "Fixtures", name);

    private static long[] Bits(Tensor tensor, string dtype)
    {
        using Tensor flat = tensor.contiguous().reshape(-1);
        return dtype switch
        {
            "float32" or "float16" or "bfloat16" or "float64" => flat.data<float>().ToArray().Select(f => (long)BitConverter.SingleToUInt32Bits(f)).ToArray(),
            "int64" => flat.data<long>().ToArray(),
            "bool" => flat.data<bool>().ToArray().Select(b => b ? 1L : 0L).ToArray(),
            _ => throw new InvalidOperationException($"dtype {dtype} is not in the fixture"),
        };
    }
}
