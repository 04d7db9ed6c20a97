using System.Text.Json.Nodes;
using Bert.Sharp.Tests.Checkpoints;
using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Tests.Training;

/// <summary>
/// Issue 21, row 7: a resume checks what it resumes. <c>trainer_state.json</c> values outside the run or inconsistent
/// with each other, and checkpoint files changed since they were saved (SHA-256 recorded at save), are refused with
/// <see cref="InvalidDataException"/> naming the file (and key) before anything is loaded or trained.
/// </summary>
[Collection(SerialTorchGroup.Name)]
public class ResumeIntegrityTests
{
    private static readonly FineTuningOptions Options = new()
    {
        Epochs = 2,
        BatchSize = 4,
        GradientAccumulationSteps = 1,
        LearningRate = 3e-3,
        WarmupSteps = 2,
        EvaluationStrategy = IntervalStrategy.No,
        SaveStrategy = IntervalStrategy.No,
        SaveTotalLimit = null,
    };

    private static readonly List<LabeledExample> Train = ToyData.Sentiment(16);

    [Theory]
    [InlineData(999999)]
    [InlineData(-5)]
    [InlineData(3)] // in range, but epoch 0 and batch 2 make step 2
    public void A_global_step_the_run_cannot_have_is_refused_naming_file_and_key(int step)
    {
        (string output, string checkpoint) = Checkpoint("resume-step");
        string stateFile = Path.Combine(checkpoint, "trainer_state.json");
        EditState(stateFile, state => state["global_step"] = step);

        using var model = ToyData.Model();
        var e = Assert.Throws<InvalidDataException>(() => Resume(model, output, checkpoint));
        Assert.Contains(stateFile, e.Message, StringComparison.Ordinal);
        Assert.Contains("'global_step'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_epoch_outside_the_run_is_refused()
    {
        (string output, string checkpoint) = Checkpoint("resume-epoch");
        string stateFile = Path.Combine(checkpoint, "trainer_state.json");
        EditState(stateFile, state => state["epoch"] = 7);
        using var model = ToyData.Model();
        var e = Assert.Throws<InvalidDataException>(() => Resume(model, output, checkpoint));
        Assert.Contains($"'{stateFile}': 'epoch' 7 is outside [0, 2]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_hundred_changed_bytes_in_optimizer_bin_are_refused_naming_the_file()
    {
        (string output, string checkpoint) = Checkpoint("resume-optimizer");
        string optimizer = Path.Combine(checkpoint, "optimizer.bin");
        byte[] bytes = File.ReadAllBytes(optimizer);
        var rng = new Random(21);
        for (int i = 0; i < 200; i++)
        {
            int at = rng.Next(bytes.Length);
            bytes[at] = (byte)(bytes[at] ^ (1 + rng.Next(255)));
        }

        File.WriteAllBytes(optimizer, bytes);
        using var model = ToyData.Model();
        var before = ToyData.Snapshot(model);
        var e = Assert.Throws<InvalidDataException>(() => Resume(model, output, checkpoint));
        Assert.Contains($"'{optimizer}' has changed since the checkpoint was saved", e.Message, StringComparison.Ordinal);

        // Refused before anything was loaded into the model.
        foreach ((string key, float[] values) in ToyData.Snapshot(model))
        {
            Assert.True(values.AsSpan().SequenceEqual(before[key]), $"'{key}' changed although the resume was refused");
        }
    }

    [Fact]
    public void Changed_weights_and_files_that_were_not_saved_with_the_checkpoint_are_refused()
    {
        (string output, string checkpoint) = Checkpoint("resume-weights");
        string weights = Path.Combine(checkpoint, "model.safetensors");
        byte[] bytes = File.ReadAllBytes(weights);
        bytes[^3] ^= 0x40;
        File.WriteAllBytes(weights, bytes);
        using (var model = ToyData.Model())
        {
            var e = Assert.Throws<InvalidDataException>(() => Resume(model, output, checkpoint));
            Assert.Contains($"'{weights}' has changed", e.Message, StringComparison.Ordinal);
        }

        (output, checkpoint) = Checkpoint("resume-extra");
        string extra = Path.Combine(checkpoint, "pytorch_model.bin");
        File.WriteAllBytes(extra, [1, 2, 3]);
        using (var model = ToyData.Model())
        {
            var e = Assert.Throws<InvalidDataException>(() => Resume(model, output, checkpoint));
            Assert.Contains($"'{extra}' is not listed", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Every_file_is_hashed_at_save_and_an_intact_checkpoint_resumes()
    {
        (string output, string checkpoint) = Checkpoint("resume-intact");
        JsonObject state = JsonNode.Parse(File.ReadAllText(Path.Combine(checkpoint, "trainer_state.json")))!.AsObject();
        Assert.Equal(3, state["version"]!.GetValue<int>());
        JsonObject files = state["files"]!.AsObject();
        Assert.Contains("optimizer.bin", files.Select(f => f.Key));
        Assert.Contains("rng_state.bin", files.Select(f => f.Key));
        Assert.Contains("model.safetensors", files.Select(f => f.Key));
        Assert.All(files, f => Assert.Matches("^[0-9a-f]{64}$", f.Value!.GetValue<string>()));

        using var model = ToyData.Model();
        TrainingReport report = Resume(model, output, checkpoint);
        Assert.Equal(8, report.GlobalStep);
    }

    [Fact]
    public void A_version_2_checkpoint_without_hashes_resumes_with_a_warning()
    {
        (string output, string checkpoint) = Checkpoint("resume-v2");
        EditState(Path.Combine(checkpoint, "trainer_state.json"), state =>
        {
            state["version"] = 2;
            state.Remove("files");
        });
        using var logs = new ListLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        using var model = ToyData.Model();
        TrainingReport report = ToyData.Tuner(model, Options with { OutputDirectory = output, ResumeFromCheckpoint = checkpoint, LoggerFactory = factory }).Train(Train);
        Assert.Equal(8, report.GlobalStep);
        Assert.Contains(logs.Messages, m => m.Contains("resumed without verification", StringComparison.Ordinal) && m.Contains(checkpoint, StringComparison.Ordinal));

        // A current-version state without its hashes is damaged, not old.
        (output, checkpoint) = Checkpoint("resume-v3-nofiles");
        string stateFile = Path.Combine(checkpoint, "trainer_state.json");
        EditState(stateFile, state => state.Remove("files"));
        using var again = ToyData.Model();
        var e = Assert.Throws<InvalidDataException>(() => Resume(again, output, checkpoint));
        Assert.Contains($"'{stateFile}': 'files'", e.Message, StringComparison.Ordinal);
    }

    private static TrainingReport Resume(BertForSequenceClassification model, string output, string checkpoint) =>
        ToyData.Tuner(model, Options with { OutputDirectory = output, ResumeFromCheckpoint = checkpoint }).Train(Train);

    private static void EditState(string file, Action<JsonObject> edit)
    {
        JsonObject state = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        edit(state);
        File.WriteAllText(file, state.ToJsonString());
    }

    // A run of 8 steps (2 epochs of 4 batches) cancelled after step 2: its checkpoint.
    private static (string Output, string Checkpoint) Checkpoint(string name)
    {
        string output = TestSupport.TestTemp.NewDirectory(name);
        using var model = ToyData.Model();
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.Step == 2)
            {
                cts.Cancel();
            }
        });
        var cancelled = Assert.Throws<TrainingCanceledException>(() => ToyData.Tuner(model, Options with { OutputDirectory = output }).Train(Train, null, progress, cts.Token));
        return (output, cancelled.CheckpointDirectory!);
    }

    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
