using Bert.Sharp.Inference;
using Bert.Sharp.Tests.TestSupport;
using Bert.Sharp.Tests.Training;
using Bert.Sharp.Training;

namespace Bert.Sharp.Tests.Adapters;

public class ServingTests
{
    [Fact]
    public void Merging_folds_the_adapter_into_the_base_weights_within_1e_5_and_saves_a_plain_folder()
    {
        using BertForSequenceClassification model = LoraTestModels.Classifier();
        LoraTestModels.AddRandomAdapter(model, "x", new LoraOptions { Rank = 4, Alpha = 16, Targets = LoraTargets.AllLinear }, seed: 9);
        float[] unmerged = LoraTestModels.Logits(model);
        model.Adapters.Merge();
        float[] merged = LoraTestModels.Logits(model);

        LoraTestModels.AssertClose(unmerged, merged, 1e-5);
        Assert.Empty(model.Adapters.Names);
        Assert.DoesNotContain(model.named_parameters(), p => p.name.Contains("lora_", StringComparison.Ordinal));

        string dir = LoraTestModels.TempFolder("merged");
        model.SavePretrained(dir);
        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")));
        Assert.False(File.Exists(Path.Combine(dir, "adapter_config.json")));
        using var reloaded = BertForSequenceClassification.FromPretrained(dir);
        LoraTestModels.AssertClose(merged, LoraTestModels.Logits(reloaded), 0);
        string onnx = Path.Combine(dir, "model.onnx");
        OnnxExporter.Export(dir, onnx);
        Assert.True(new FileInfo(onnx).Length > 0);
    }

    [Fact]
    public void One_base_with_several_adapters_gives_each_adapters_own_outputs_switched_per_call()
    {
        using BertForSequenceClassification reference = LoraTestModels.Classifier();
        float[] baseLogits = LoraTestModels.Logits(reference);
        var expected = new Dictionary<string, float[]>();
        var folders = new Dictionary<string, string>();
        foreach ((string name, int seed) in new[] { ("a", 1), ("b", 2) })
        {
            using BertForSequenceClassification single = LoraTestModels.Classifier();
            LoraTestModels.AddRandomAdapter(single, name, new LoraOptions { Rank = 2 + seed }, seed);
            expected[name] = LoraTestModels.Logits(single);
            folders[name] = LoraTestModels.TempFolder(name);
            single.Adapters.Save(folders[name]);
        }

        BertForSequenceClassification model = LoraTestModels.Classifier();
        model.Adapters.Load(folders["a"], "a");
        model.Adapters.Load(folders["b"], "b");
        Assert.Equal(["a", "b"], model.Adapters.Names);
        Assert.Equal("b", model.Adapters.Active);
        LoraTestModels.AssertClose(expected["b"], LoraTestModels.Logits(model), 1e-6);
        model.Adapters.Use("a");
        LoraTestModels.AssertClose(expected["a"], LoraTestModels.Logits(model), 1e-6);
        Assert.NotEqual(expected["a"], expected["b"]);

        // Per call, from several threads at once, whatever the active adapter.
        using var classifier = new TextClassifier(model, new ToyEncoder(), new TextClassifierOptions());
        string[] texts = ["good phone", "awful screen and poor battery"];
        IReadOnlyList<Prediction> viaA = classifier.PredictBatch(texts, "a");
        IReadOnlyList<Prediction> viaB = classifier.PredictBatch(texts, "b");
        Parallel.For(0, 8, i =>
        {
            string name = i % 2 == 0 ? "a" : "b";
            Assert.Equal((name == "a" ? viaA : viaB).Select(p => p.Score), classifier.PredictBatch(texts, name).Select(p => p.Score));
        });
        Assert.NotEqual(viaA.Select(p => p.Score), viaB.Select(p => p.Score));
        Assert.Throws<KeyNotFoundException>(() => classifier.PredictBatch(texts, "c"));
        Assert.Throws<KeyNotFoundException>(() => model.Adapters.Use("c"));

        model.Adapters.Delete("b");
        model.Adapters.Use("a");
        LoraTestModels.AssertClose(expected["a"], LoraTestModels.Logits(model), 1e-6);
        Assert.NotNull(baseLogits);
    }

    [Fact]
    public void An_adapter_folder_saved_without_tokenizer_files_loads_as_a_classifier_with_its_bases_tokenizer()
    {
        // Adapters.Save (like Python's PEFT) writes only adapter_config.json and the adapter weights.
        BertTokenizer tokenizer = BertTokenizer.FromVocabulary(TestAssets.UncasedVocabPath);
        string baseDir = LoraTestModels.TempFolder("base-with-tokenizer");
        using (var plain = new BertForSequenceClassification(TinyConfigs.Bert(vocab: tokenizer.VocabularySize, maxPositions: 128), LoraTestModels.Labels))
        {
            plain.SavePretrained(baseDir, tokenizer);
        }

        string adapterDir = LoraTestModels.TempFolder("adapter-only");
        string[] texts = ["the battery died after a week", "great screen"];
        IReadOnlyList<Prediction> direct;
        using (BertForSequenceClassification model = BertForSequenceClassification.FromPretrained(baseDir))
        {
            LoraTestModels.AddRandomAdapter(model, "default", new LoraOptions { Rank = 4 }, seed: 5);
            model.Adapters.Save(adapterDir);
            using var withAdapter = new TextClassifier(model, new TokenizerTextEncoder(tokenizer), new TextClassifierOptions());
            direct = withAdapter.PredictBatch(texts);
        }

        Assert.False(File.Exists(Path.Combine(adapterDir, "vocab.txt")) || File.Exists(Path.Combine(adapterDir, "tokenizer.json")));
        using TextClassifier loaded = TextClassifier.FromPretrained(adapterDir);
        Assert.Equal(direct.Select(p => p.Score), loaded.PredictBatch(texts).Select(p => p.Score));
    }
}
