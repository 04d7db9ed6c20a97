using Bert.Sharp.Tests.TestSupport;
using Bert.Sharp.Tests.Training;
using Bert.Sharp.Training;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Bert.Sharp.Tests.Fuzzing;

/// <summary>
/// Mutation fuzzing of what a resume reads (issue 21 item 8): <c>trainer_state.json</c>, opened as a resume opens it
/// (parsed, checked against the run, checked for consistency, every file's SHA-256 verified), and <c>optimizer.bin</c>,
/// parsed into the run's optimizer (the SHA-256 check would refuse any changed byte first; the parser is fuzzed behind
/// it, as a checkpoint written before the hashes reaches it). Every input either loads or is refused with the documented
/// types naming the checkpoint folder; none hangs.
/// </summary>
[Collection(SerialFuzzGroup.Name)]
public sealed class ResumeFuzzTests(ITestOutputHelper output) : IDisposable
{
    private static readonly FineTuningOptions RunOptions = new()
    {
        Epochs = 2, BatchSize = 4, SaveStrategy = IntervalStrategy.Steps, SaveSteps = 1, SaveTotalLimit = null,
        EvaluationStrategy = IntervalStrategy.No, LearningRate = 1e-3,
    };

    private readonly string dir = FuzzRunner.NewWorkDirectory("fuzz-resume");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Trainer_state_json_mutations_load_or_are_refused_as_invalid_data()
    {
        Run run = Train();
        string checkpoint = Path.Combine(run.Output, "checkpoint-3");
        IReadOnlyList<byte[]> corpus = [File.ReadAllBytes(Path.Combine(checkpoint, "trainer_state.json")), File.ReadAllBytes(Path.Combine(run.Output, "checkpoint-4", "trainer_state.json"))];
        var runner = new FuzzRunner(
            "trainer_state.json",
            Path.Combine(checkpoint, "trainer_state.json"),
            baseSeed: 23_000_000,
            corpus,
            (file, rng, log) => rng.Next(5) < 3 ? JsonMutator.Mutate(file, rng, log) ?? ByteMutator.Mutate(file, corpus, rng, log) : ByteMutator.Mutate(file, corpus, rng, log),
            _ =>
            {
                TrainingCheckpoint.Open(checkpoint, run.Shape, NullLogger.Instance);
                return 0;
            },
            typeof(InvalidDataException),
            typeof(FileNotFoundException),
            typeof(InvalidOperationException));
        Check(runner.Run(FuzzRunner.Iterations));
    }

    [Fact]
    public void Optimizer_bin_mutations_load_or_are_refused_as_invalid_data()
    {
        Run run = Train();
        string checkpoint = Path.Combine(run.Output, "checkpoint-3");
        IReadOnlyList<byte[]> corpus = [File.ReadAllBytes(Path.Combine(checkpoint, "optimizer.bin")), File.ReadAllBytes(Path.Combine(run.Output, "checkpoint-1", "optimizer.bin"))];
        using BertForSequenceClassification model = ToyData.Model(seed: 5);
        var runner = new FuzzRunner(
            "optimizer.bin",
            Path.Combine(checkpoint, "optimizer.bin"),
            baseSeed: 24_000_000,
            corpus,
            (file, rng, log) => ByteMutator.Mutate(file, corpus, rng, log),
            _ =>
            {
                using TrainableOptimizer optimizer = TrainableOptimizer.Create(model, RunOptions);
                TrainingCheckpoint.LoadOptimizer(checkpoint, optimizer);
                return 0;
            },
            typeof(InvalidDataException))
        {
            // A model-sized file: the fixed cost of an optimizer is not the input's.
            ManagedConstant = 16 << 20,
        };
        Check(runner.Run(FuzzRunner.Iterations));
    }

    [Fact]
    public void The_corpus_checkpoints_themselves_resume()
    {
        Run run = Train();
        foreach (string name in new[] { "checkpoint-1", "checkpoint-3" })
        {
            string checkpoint = Path.Combine(run.Output, name);
            TrainerState state = TrainingCheckpoint.Open(checkpoint, run.Shape, NullLogger.Instance);
            Assert.Equal(int.Parse(name["checkpoint-".Length..], System.Globalization.CultureInfo.InvariantCulture), state.GlobalStep);
            using BertForSequenceClassification model = ToyData.Model(seed: 5);
            using TrainableOptimizer optimizer = TrainableOptimizer.Create(model, RunOptions);
            TrainingCheckpoint.LoadOptimizer(checkpoint, optimizer);
            // The whole state was read: saved again, it is the checkpoint's optimizer.bin byte for byte.
            using var saved = new MemoryStream();
            optimizer.Save(saved);
            Assert.Equal(File.ReadAllBytes(Path.Combine(checkpoint, "optimizer.bin")), saved.ToArray());
        }
    }

    // A tiny run of 2 epochs × 2 steps with a checkpoint after every step.
    private Run Train()
    {
        string outputDir = Path.Combine(dir, "run");
        List<LabeledExample> train = ToyData.Sentiment(8);
        using (BertForSequenceClassification model = ToyData.Model(seed: 5))
        {
            new FineTuner(model, new ToyEncoder(), null, RunOptions with { OutputDirectory = outputDir }).Train(train, null);
        }

        TrainerState saved = TrainingCheckpoint.ReadState(Path.Combine(outputDir, "checkpoint-3"));
        var shape = new ResumeShape(4, 2, 2, 4, 1, train.Count, saved.DataFingerprint, RunOptions.Seed, saved.Precision!, false);
        return new Run(outputDir, shape);
    }

    private void Check(FuzzResult result)
    {
        output.WriteLine(result.Summary());
        Assert.Empty(result.Hangs);
        Assert.True(result.Failures.Count == 0, $"{result.Failures.Count} failures, first: {string.Join("\n", result.Failures.Take(5))}");
        Assert.Equal(FuzzRunner.Iterations, result.Inputs);
    }

    private sealed record Run(string Output, ResumeShape Shape);
}
