using Bert.Sharp.Tests.TestSupport;
using Bert.Sharp.Tests.Training;

namespace Bert.Sharp.Tests.Classification;

public class TextClassifierTests
{
    [Fact]
    public void Trained_with_the_real_tokenizer_saved_and_served_from_several_threads()
    {
        BertTokenizer tokenizer = BertTokenizer.FromVocabulary(TestAssets.UncasedVocabPath);
        TorchSharp.torch.manual_seed(3);
        using var model = new BertForSequenceClassification(TinyConfigs.Bert(vocab: tokenizer.VocabularySize), ["negative", "positive"]);
        var options = new FineTuningOptions { Epochs = 15, BatchSize = 8, LearningRate = 5e-3, SaveStrategy = IntervalStrategy.No };
        TrainingReport report = new FineTuner(model, tokenizer, options).Train(ToyData.Sentiment(64));
        Assert.True(report.FinalLoss < 0.1, $"final loss {report.FinalLoss}");

        string dir = TestTemp.NewDirectory("clf");
        model.SavePretrained(dir, tokenizer);
        using var classifier = TextClassifier.FromPretrained(dir, new TextClassifierOptions { BatchSize = 5 });
        Prediction good = classifier.Predict("the screen was really good");
        Assert.Equal("positive", good.Label);
        Assert.Equal(1f, good.Probabilities.Values.Sum(), 4);
        Assert.Equal(good.Score, good.Probabilities["positive"]);
        Assert.Equal("negative", classifier.Predict("battery was awful").Label);

        string[] texts = [.. ToyData.Sentiment(24, seed: 11).Select(e => e.Text), string.Empty, string.Join(' ', Enumerable.Repeat("good", 2000))];
        IReadOnlyList<Prediction> batch = classifier.PredictBatch(texts);
        Prediction[] parallel = new Prediction[texts.Length];
        Parallel.For(0, texts.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => parallel[i] = classifier.Predict(texts[i]));
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(batch[i].Label, parallel[i].Label);
            Assert.Equal(batch[i].Score, parallel[i].Score, 4);
        }
    }

    [Fact]
    public void A_base_model_folder_is_not_a_classifier()
    {
        string dir = BaseModelFolder("clf-base");
        var e = Assert.Throws<InvalidDataException>(() => TextClassifier.FromPretrained(dir));
        Assert.Contains("not a trained classifier", e.Message, StringComparison.Ordinal);
        var tagging = Assert.Throws<InvalidDataException>(() => TokenClassifier.FromPretrained(dir));
        Assert.Contains("not a trained token classifier", tagging.Message, StringComparison.Ordinal);
        Assert.Contains(dir, tagging.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_classifier_folder_whose_head_weights_are_missing_is_refused_naming_them()
    {
        string dir = BaseModelFolder("clf-headless");
        // The config of a trained classifier (architecture and labels) over weights without a head.
        string configPath = Path.Combine(dir, "config.json");
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["architectures"] = new System.Text.Json.Nodes.JsonArray("BertForSequenceClassification");
        config["id2label"] = new System.Text.Json.Nodes.JsonObject { ["0"] = "neg", ["1"] = "pos" };
        config["label2id"] = new System.Text.Json.Nodes.JsonObject { ["neg"] = 0, ["pos"] = 1 };
        File.WriteAllText(configPath, config.ToJsonString());

        var e = Assert.Throws<InvalidDataException>(() => TextClassifier.FromPretrained(dir));
        Assert.Contains("classifier.weight", e.Message, StringComparison.Ordinal);
        Assert.Contains("not a trained classifier", e.Message, StringComparison.Ordinal);
    }

    // A tiny encoder (no head) with its tokenizer files: what a base checkpoint folder holds.
    private static string BaseModelFolder(string name)
    {
        string dir = TestTemp.NewDirectory(name);
        BertTokenizer tokenizer = BertTokenizer.FromVocabulary(TestAssets.UncasedVocabPath);
        using (var encoder = new BertModel(TinyConfigs.Bert(vocab: tokenizer.VocabularySize)))
        {
            encoder.SavePretrained(dir);
        }

        tokenizer.SavePretrained(dir);
        return dir;
    }
}
