using Bert.Sharp.Checkpoints;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Fuzzing;

/// <summary>
/// Mutation fuzzing of the weight files (issue 10): <c>model.safetensors</c> and <c>pytorch_model.bin</c> (zip +
/// pickle). Every input either loads or is refused with <see cref="InvalidDataException"/> naming the file; none hangs;
/// the tensors made are at most 8× the file's size. <c>BERT_SHARP_FUZZ_ITERATIONS</c> sets the inputs per format.
/// </summary>
[Collection(SerialFuzzGroup.Name)]
public sealed class CheckpointFuzzTests(ITestOutputHelper output) : IDisposable
{
    private readonly string dir = FuzzRunner.NewWorkDirectory("fuzz-weights");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Safetensors_mutations_load_or_are_refused_as_invalid_data()
    {
        IReadOnlyList<byte[]> corpus = FuzzCorpus.SafeTensors(dir);
        var runner = new FuzzRunner(
            "model.safetensors",
            Path.Combine(dir, "model.safetensors"),
            baseSeed: 1_000_000,
            corpus,
            (file, rng, log) => ContainerMutator.SafeTensors(file, corpus, rng, log),
            path => TensorBytes(SafeTensors.Load(path)),
            typeof(InvalidDataException));
        Check(runner.Run(FuzzRunner.Iterations));
    }

    [Fact]
    public void Pytorch_model_bin_mutations_load_or_are_refused_as_invalid_data()
    {
        IReadOnlyList<byte[]> corpus = FuzzCorpus.TorchZips();
        var runner = new FuzzRunner(
            "pytorch_model.bin",
            Path.Combine(dir, "pytorch_model.bin"),
            baseSeed: 2_000_000,
            corpus,
            (file, rng, log) => ContainerMutator.TorchZip(file, corpus, rng, log),
            path => TensorBytes(TorchPickleCheckpoint.Load(path)),
            typeof(InvalidDataException));
        Check(runner.Run(FuzzRunner.Iterations));
    }

    [Fact]
    public void The_corpus_files_themselves_load()
    {
        IReadOnlyList<byte[]> safetensors = FuzzCorpus.SafeTensors(dir);
        string path = Path.Combine(dir, "model.safetensors");
        foreach (byte[] file in safetensors)
        {
            File.WriteAllBytes(path, file);
            Assert.True(TensorBytes(SafeTensors.Load(path)) > 0);
        }

        path = Path.Combine(dir, "pytorch_model.bin");
        foreach (byte[] file in FuzzCorpus.TorchZips())
        {
            File.WriteAllBytes(path, file);
            Assert.True(TensorBytes(TorchPickleCheckpoint.Load(path)) > 0);
        }
    }

    private static long TensorBytes(Dictionary<string, Tensor> state)
    {
        long bytes = 0;
        foreach (Tensor t in state.Values)
        {
            bytes += t.bytes.Length;
            t.Dispose();
        }

        return bytes;
    }

    private void Check(FuzzResult result)
    {
        output.WriteLine(result.Summary());
        Assert.Empty(result.Hangs);
        Assert.True(result.Failures.Count == 0, $"{result.Failures.Count} failures, first: {string.Join("\n", result.Failures.Take(5))}");
        Assert.Equal(FuzzRunner.Iterations, result.Inputs);
    }
}
