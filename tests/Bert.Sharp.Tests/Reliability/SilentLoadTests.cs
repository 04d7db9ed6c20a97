using Bert.Sharp.Checkpoints;
using Bert.Sharp.IO;
using Bert.Sharp.Tests.Checkpoints;
using Bert.Sharp.Tests.TestSupport;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Reliability;

/// <summary>A load that would silently return a partly random model fails instead, naming the keys; new heads are reported, not refused.</summary>
[Collection(Training.SerialTorchGroup.Name)]
public sealed class SilentLoadTests : IDisposable
{
    private readonly string dir = TestTemp.NewDirectory("silent");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void A_checkpoint_missing_an_encoder_weight_is_refused_naming_it()
    {
        using (var model = new BertModel(TinyConfigs.Bert(layers: 2)))
        {
            model.SavePretrained(dir);
            var state = model.state_dict();
            state.Remove("encoder.layer.1.attention.self.query.weight");
            SafeTensors.Save(Path.Combine(dir, FolderFileNames.SafeTensorsWeights), state);
        }

        foreach (Func<IDisposable> load in new Func<IDisposable>[]
        {
            () => BertModel.FromPretrained(dir),
            () => BertForSequenceClassification.FromPretrained(dir, ["a", "b"]),
            () => BertForTokenClassification.FromPretrained(dir, ["O", "B-X"]),
            () => BertForSentenceEmbedding.FromPretrained(dir),
        })
        {
            var e = Assert.Throws<InvalidDataException>(load);
            Assert.Contains("encoder.layer.1.attention.self.query.weight", e.Message, StringComparison.Ordinal);
            Assert.Contains(dir, e.Message, StringComparison.Ordinal);
        }

        using BertModel allowed = BertModel.FromPretrained(dir, new BertLoadOptions { AllowMissingWeights = true });
        Assert.Equal(["encoder.layer.1.attention.self.query.weight"], allowed.LoadReport!.MissingKeys);
    }

    [Fact]
    public void A_new_head_on_a_base_checkpoint_is_reported_not_refused()
    {
        using (var model = new BertModel(TinyConfigs.Bert()))
        {
            model.SavePretrained(dir);
        }

        using var classifier = BertForSequenceClassification.FromPretrained(dir, ["a", "b"]);
        Assert.Equal(["classifier.bias", "classifier.weight"], classifier.LoadReport!.MissingKeys.Order(StringComparer.Ordinal));
        using var tagger = BertForTokenClassification.FromPretrained(dir, ["O", "B-X"]);
        Assert.Equal(["classifier.bias", "classifier.weight"], tagger.LoadReport!.MissingKeys.Order(StringComparer.Ordinal));
        Assert.Contains("pooler.dense.weight", tagger.LoadReport.UnexpectedKeys.Select(k => k.Replace("bert.", string.Empty, StringComparison.Ordinal)));
    }

    [Fact]
    public void Another_tasks_head_is_not_taken_for_this_one()
    {
        using (var tagger = new BertForTokenClassification(TinyConfigs.Bert(), ["O", "B-X"]))
        {
            tagger.SavePretrained(dir);
        }

        var logs = new ListLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        using var classifier = BertForSequenceClassification.FromPretrained(dir, ["neg", "pos"], new ClassifierLoadOptions { LoggerFactory = factory });
        Assert.Contains("classifier.weight", classifier.LoadReport!.MissingKeys);
        Assert.Contains(logs.Messages, m => m.Contains("BertForTokenClassification", StringComparison.Ordinal) && m.Contains("not loaded", StringComparison.Ordinal));
    }

    [Fact]
    public void The_one_call_train_hands_the_callers_logger_to_every_loader()
    {
        BertTokenizer tokenizer = AdditiveSaveTests.Tokenizer();
        string baseModel = Path.Combine(dir, "base");
        using (var encoder = new BertModel(TinyConfigs.Bert(vocab: tokenizer.VocabularySize)))
        {
            encoder.SavePretrained(baseModel, tokenizer);
        }

        var logs = new ListLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        var options = new FineTuningOptions { Epochs = 1, LoggerFactory = factory, SaveStrategy = IntervalStrategy.No, MaxSequenceLength = 3 };
        FineTuner.Train(baseModel, Path.Combine(dir, "out"), Training.ToyData.Sentiment(8), options: options);
        Assert.Contains(logs.Messages, m => m.Contains("newly initialized: [classifier", StringComparison.Ordinal)); // the loader's
        Assert.Contains(logs.Messages, m => m.Contains("were truncated", StringComparison.Ordinal)); // the trainer's
    }
}
