using Bert.Sharp.Modeling;
using Xunit.Abstractions;

namespace Bert.Sharp.Tests.Fuzzing;

/// <summary>
/// Mutation fuzzing of <c>config.json</c> (issue 10): every input either gives a config within the documented bounds
/// (at most four billion parameters, checked before any tensor exists) or is refused with
/// <see cref="InvalidDataException"/> naming the file; none hangs.
/// </summary>
[Collection(SerialFuzzGroup.Name)]
public sealed class ConfigFuzzTests(ITestOutputHelper output) : IDisposable
{
    private readonly string dir = FuzzRunner.NewWorkDirectory("fuzz-config");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Config_json_mutations_load_within_bounds_or_are_refused_as_invalid_data()
    {
        IReadOnlyList<byte[]> corpus = FuzzCorpus.Configs();
        var runner = new FuzzRunner(
            "config.json",
            Path.Combine(dir, "config.json"),
            baseSeed: 6_000_000,
            corpus,
            (file, rng, log) => rng.Next(5) < 3 ? JsonMutator.Mutate(file, rng, log) ?? ByteMutator.Mutate(file, corpus, rng, log) : ByteMutator.Mutate(file, corpus, rng, log),
            path =>
            {
                BertConfig config = BertConfig.Load(path);
                Assert.InRange(BertConfigLimits.CountParameters(config), 1, BertConfigLimits.MaxParameters);
                BertConfig.FromJson(config.ToJson());
                return 0;
            },
            typeof(InvalidDataException),
            typeof(NotSupportedException));
        FuzzResult result = runner.Run(FuzzRunner.Iterations);
        output.WriteLine(result.Summary());
        Assert.Empty(result.Hangs);
        Assert.True(result.Failures.Count == 0, $"{result.Failures.Count} failures, first: {string.Join("\n", result.Failures.Take(5))}");
        Assert.Equal(FuzzRunner.Iterations, result.Inputs);
    }

    [Fact]
    public void The_corpus_files_themselves_load()
    {
        string path = Path.Combine(dir, "config.json");
        foreach (byte[] file in FuzzCorpus.Configs())
        {
            File.WriteAllBytes(path, file);
            Assert.Equal("bert", BertConfig.Load(path).ModelType);
        }
    }
}
