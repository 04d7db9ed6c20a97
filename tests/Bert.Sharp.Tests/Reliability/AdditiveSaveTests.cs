using Bert.Sharp.Checkpoints;
using Bert.Sharp.IO;
using Bert.Sharp.Tests.TestSupport;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Reliability;

/// <summary>
/// Saving never destroys data: only the model's own files change (Hugging Face's save_pretrained semantics), a failure at
/// any step leaves the previous model loadable, and a save interrupted after it was complete is finished by the next load.
/// </summary>
[Collection(Training.SerialTorchGroup.Name)]
public sealed class AdditiveSaveTests : IDisposable
{
    private readonly string dir = TestTemp.NewDirectory("save");

    public void Dispose()
    {
        ModelFolderWriter.FaultInjection = null;
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void Foreign_files_survive_and_stale_weight_files_of_ours_go()
    {
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "mine");
        Directory.CreateDirectory(Path.Combine(dir, "data"));
        File.WriteAllText(Path.Combine(dir, "data", "train.tsv"), "x\t1");
        File.WriteAllBytes(Path.Combine(dir, FolderFileNames.PyTorchWeights), [1, 2, 3]);
        File.WriteAllText(Path.Combine(dir, FolderFileNames.PyTorchWeightsIndex), """{"weight_map": {"a": "pytorch_model-00001-of-00002.bin"}}""");
        File.WriteAllBytes(Path.Combine(dir, "pytorch_model-00001-of-00002.bin"), [4]);

        using var model = Model("a", "b", 0.25f);
        model.SavePretrained(dir, Tokenizer());

        Assert.Equal("mine", File.ReadAllText(Path.Combine(dir, "notes.txt")));
        Assert.Equal("x\t1", File.ReadAllText(Path.Combine(dir, "data", "train.tsv")));
        Assert.False(File.Exists(Path.Combine(dir, FolderFileNames.PyTorchWeights)), "a pytorch_model.bin beside the new safetensors would be another model");
        Assert.False(File.Exists(Path.Combine(dir, FolderFileNames.PyTorchWeightsIndex)));
        Assert.False(File.Exists(Path.Combine(dir, "pytorch_model-00001-of-00002.bin")));
        Assert.Empty(Directory.GetFiles(dir, "*.bert-sharp-tmp"));
        Assert.False(File.Exists(Path.Combine(dir, ModelFolderWriter.JournalName)));
        AssertLoads(dir, "a", 0.25f);
    }

    [Fact]
    public void The_one_call_train_keeps_everything_else_in_its_output_folder()
    {
        string baseModel = Path.Combine(dir, "base");
        BertTokenizer tokenizer = Tokenizer();
        using (var encoder = new BertModel(TinyConfigs.Bert(vocab: tokenizer.VocabularySize)))
        {
            encoder.SavePretrained(baseModel, tokenizer);
        }

        string output = Path.Combine(dir, "work");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "README.md"), "my project");
        FineTuner.Train(baseModel, output, Training.ToyData.Sentiment(8), options: new FineTuningOptions { Epochs = 1, SaveStrategy = IntervalStrategy.No, SaveBestModel = false });
        Assert.Equal("my project", File.ReadAllText(Path.Combine(output, "README.md")));
        Assert.True(File.Exists(Path.Combine(output, "model.safetensors")));
    }

    [Theory]
    [InlineData("write:config.json")]
    [InlineData("write:model.safetensors")]
    [InlineData("write:vocab.txt")]
    [InlineData("journal")]
    public void A_failure_before_the_journal_leaves_the_previous_model(string step)
    {
        using (var first = Model("a", "b", 0.25f))
        {
            first.SavePretrained(dir, Tokenizer());
        }

        using var second = Model("c", "d", 0.75f);
        ModelFolderWriter.FaultInjection = s => { if (s == step) { throw new IOException($"injected at {s}"); } };
        Assert.Throws<IOException>(() => second.SavePretrained(dir, Tokenizer()));
        ModelFolderWriter.FaultInjection = null;

        AssertLoads(dir, "a", 0.25f);
        Assert.Empty(Directory.GetFiles(dir, "*.bert-sharp-tmp"));
    }

    [Theory]
    [InlineData("rename:config.json")]
    [InlineData("rename:model.safetensors")]
    [InlineData("rename:vocab.txt")]
    [InlineData("delete:added_tokens.json")]
    public void A_failure_after_the_journal_is_finished_by_the_next_load(string step)
    {
        using (var first = Model("a", "b", 0.25f))
        {
            first.SavePretrained(dir, Tokenizer());
        }

        File.WriteAllText(Path.Combine(dir, "added_tokens.json"), "{}");
        using var second = Model("c", "d", 0.75f);
        ModelFolderWriter.FaultInjection = s => { if (s == step) { throw new IOException($"injected at {s}"); } };
        Assert.Throws<IOException>(() => second.SavePretrained(dir, Tokenizer()));
        ModelFolderWriter.FaultInjection = null;

        Assert.True(File.Exists(Path.Combine(dir, ModelFolderWriter.JournalName)), "the journal records the complete new model");
        AssertLoads(dir, "c", 0.75f);
        Assert.False(File.Exists(Path.Combine(dir, ModelFolderWriter.JournalName)));
        Assert.False(File.Exists(Path.Combine(dir, "added_tokens.json")));
    }

    [Fact]
    public void An_unwritable_folder_is_named_and_nothing_is_left_behind()
    {
        string file = Path.Combine(dir, "a-file");
        File.WriteAllText(file, "x");
        using var model = Model("a", "b", 0.5f);
        var e = Assert.Throws<UnauthorizedAccessException>(() => model.SavePretrained(Path.Combine(file, "model")));
        Assert.Contains(file, e.Message, StringComparison.Ordinal);
        Assert.Equal([file], Directory.GetFileSystemEntries(dir));
    }

    [Fact]
    public void A_damaged_journal_is_reported_with_the_folder()
    {
        using (var model = Model("a", "b", 0.5f))
        {
            model.SavePretrained(dir);
        }

        File.WriteAllText(Path.Combine(dir, ModelFolderWriter.JournalName), "{ not json");
        var e = Assert.Throws<InvalidDataException>(() => BertForSequenceClassification.FromPretrained(dir));
        Assert.Contains(dir, e.Message, StringComparison.Ordinal);
        Assert.Contains(ModelFolderWriter.JournalName, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_journal_cannot_point_outside_the_folder()
    {
        File.WriteAllText(Path.Combine(dir, ModelFolderWriter.JournalName), """{"renames": [{"temp": "../x", "target": "config.json"}], "deletes": []}""");
        var e = Assert.Throws<InvalidDataException>(() => ModelFolderWriter.Recover(dir));
        Assert.Contains("outside the folder", e.Message, StringComparison.Ordinal);
    }

    internal static BertForSequenceClassification Model(string label0, string label1, float value)
    {
        var model = new BertForSequenceClassification(TinyConfigs.Bert(layers: 1, vocab: 30522), [label0, label1]);
        using (no_grad())
        {
            foreach (var p in model.parameters())
            {
                p.fill_(value);
            }
        }

        return model;
    }

    internal static BertTokenizer Tokenizer() => BertTokenizer.FromVocabulary(TestAssets.UncasedVocabPath);

    // The folder is one consistent model: the labels of its config belong to the weights beside them.
    internal static void AssertLoads(string folder, string label0, float value)
    {
        using var loaded = BertForSequenceClassification.FromPretrained(folder);
        Assert.Equal(label0, loaded.Labels[0]);
        Assert.All(loaded.parameters(), p => Assert.Equal(value, p.max().item<float>()));
        Assert.Equal(30522, BertTokenizer.FromPretrained(folder).VocabularySize);
    }
}
