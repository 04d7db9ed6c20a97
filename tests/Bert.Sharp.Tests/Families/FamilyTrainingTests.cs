using Bert.Sharp.Checkpoints;
using Bert.Sharp.Tests.TestSupport;
using Bert.Sharp.Tests.Tokenization;
using Bert.Sharp.Tests.Training;
using Xunit;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Families;

/// <summary>
/// A tiny RoBERTa-shaped classifier (GPT-2 byte-level BPE tokenizer) fine-tunes on the toy sentiment data with every freeze
/// policy and with LoRA: the loss falls, and what is saved loads back computing the same logits.
/// </summary>
public sealed class FamilyTrainingTests
{
    public static TheoryData<string> Policies => ["full", "transfer", "top1", "frozen-embeddings", "gradual", "lora"];

    private static FreezePolicy Policy(string name) => name switch
    {
        "full" => FreezePolicy.FullFineTuning(),
        "transfer" => FreezePolicy.TransferLearning(),
        "top1" => FreezePolicy.FineTuneTopLayers(1),
        "frozen-embeddings" => FreezePolicy.FreezeEmbeddings(),
        "gradual" => FreezePolicy.GradualUnfreezing(),
        _ => FreezePolicy.LoRA(rank: 4, alpha: 8, dropout: 0),
    };

    private static BertForSequenceClassification Model(int seed) =>
        SeededWeights.Apply(new BertForSequenceClassification(FamilyServingTests.Config("roberta", SubwordOracle.Roberta.Ours.VocabularySize), ["negative", "positive"]), seed);

    [Theory]
    [MemberData(nameof(Policies))]
    public void A_roberta_classifier_fine_tunes_with_each_policy_and_saves_what_it_computes(string policy)
    {
        string dir = TestTemp.NewDirectory("family-train");
        try
        {
            using BertForSequenceClassification model = Model(3);
            string baseDir = Path.Combine(dir, "base");
            model.SavePretrained(baseDir);
            var tuner = new FineTuner(model, SubwordOracle.Roberta.Ours, new FineTuningOptions
            {
                Epochs = 4,
                BatchSize = 8,
                LearningRate = policy is "lora" or "transfer" ? 1e-2 : 3e-3,
                FreezePolicy = Policy(policy),
                Seed = 5,
                EvaluationStrategy = IntervalStrategy.No,
                SaveStrategy = IntervalStrategy.No,
            });
            TrainingReport report = tuner.Train(ToyData.Sentiment(48));
            Assert.True(report.EpochLosses[^1] < report.EpochLosses[0], $"{policy}: epoch losses {string.Join(", ", report.EpochLosses)}");

            model.eval();
            int[] ids = SubwordOracle.Roberta.Encode("the phone was really good");
            float[] trained = FamilyServingTests.Probabilities(model, ids);
            using BertForSequenceClassification loaded = policy == "lora" ? LoadWithAdapter(model, baseDir, dir) : SaveAndLoad(model, dir);
            loaded.eval();
            float[] reloaded = FamilyServingTests.Probabilities(loaded, ids);
            Assert.All(trained.Zip(reloaded), p => Assert.Equal(p.First, p.Second, 6));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_roberta_token_classifier_fine_tunes_on_words_encoded_as_running_text()
    {
        // Words after the first are encoded after a space: the ids are those of the sentence itself.
        var encoder = new Bert.Sharp.Inference.SubwordTextEncoder(SubwordOracle.Roberta.Ours, padTokenId: 1, modelMaxLength: 512);
        WordEncoding words = encoder.EncodeWords(["Hello", "world,", "goodbye"], 64);
        Assert.Equal(SubwordOracle.Roberta.Encode("Hello world, goodbye"), words.InputIds);
        Assert.Equal(3, words.WordsKept);
        Assert.Null(words.WordIds[0]);
        Assert.Null(words.WordIds[^1]);
        Assert.Equal(0, words.WordIds[1]);
        Assert.Equal(2, words.WordIds[^2]);

        List<TaggedSentence> data = Tasks.ToyTagging.PersonSentences(32, seed: 3);

        BertConfig config = FamilyServingTests.Config("roberta", SubwordOracle.Roberta.Ours.VocabularySize);
        using var model = SeededWeights.Apply(new BertForTokenClassification(config, ["O", "B-PER"]), 6);
        var tuner = new FineTuner(model, SubwordOracle.Roberta.Ours, new FineTuningOptions
        {
            Epochs = 4,
            BatchSize = 8,
            LearningRate = 3e-3,
            Seed = 2,
            EvaluationStrategy = IntervalStrategy.No,
            SaveStrategy = IntervalStrategy.No,
        });
        TrainingReport report = tuner.Train(data);
        Assert.True(report.EpochLosses[^1] < report.EpochLosses[0] * 0.8, $"epoch losses {string.Join(", ", report.EpochLosses)}");
    }

    [Fact]
    public void Same_seed_same_run_for_a_roberta_classifier_built_from_a_config()
    {
        // Encoder, classifier.dense and classifier.out_proj drawn from torch's global generator (other draws in between) are
        // redrawn from FineTuningOptions.Seed when training starts, so both runs are the same.
        BertConfig config = FamilyServingTests.Config("roberta", SubwordOracle.Roberta.Ours.VocabularySize);
        var losses = new List<double[]>();
        for (int run = 0; run < 2; run++)
        {
            using (randn(1000 * (run + 1)))
            {
            }

            using var model = new BertForSequenceClassification(config, ["negative", "positive"]);
            var tuner = new FineTuner(model, SubwordOracle.Roberta.Ours, new FineTuningOptions
            {
                Epochs = 1,
                BatchSize = 8,
                LearningRate = 3e-3,
                Seed = 9,
                EvaluationStrategy = IntervalStrategy.No,
                SaveStrategy = IntervalStrategy.No,
            });
            losses.Add([.. tuner.Train(ToyData.Sentiment(24)).Steps.Select(s => s.Loss)]);
        }

        Assert.Equal(losses[0], losses[1]);
    }

    [Fact]
    public void Lora_on_a_roberta_classifier_uses_peft_names_and_keeps_each_adapters_head()
    {
        string dir = TestTemp.NewDirectory("family-train");
        try
        {
            using BertForSequenceClassification model = Model(4);
            model.eval();
            int[] ids = SubwordOracle.Roberta.Encode("the screen was awful");
            float[] plain = FamilyServingTests.Probabilities(model, ids);
            model.Adapters.Add("a", new LoraOptions { Rank = 2 }, seed: 1);
            Assert.Equal(plain, FamilyServingTests.Probabilities(model, ids)); // B starts at zero
            Assert.Contains(model.named_parameters(), p => p.name == "roberta.encoder.layer.0.attention.self.query.lora_A.a.weight");
            using (no_grad())
            {
                foreach (var p in model.named_parameters().Where(p => p.name.StartsWith("classifier.", StringComparison.Ordinal) || p.name.Contains("lora_B", StringComparison.Ordinal)))
                {
                    p.parameter.add_(0.3);
                }
            }

            float[] withA = FamilyServingTests.Probabilities(model, ids);
            model.Adapters.Add("b", new LoraOptions { Rank = 2 }, seed: 2);
            model.Adapters.Use("a");
            Assert.All(withA.Zip(FamilyServingTests.Probabilities(model, ids)), p => Assert.Equal(p.First, p.Second, 6)); // a's head and dense layer were kept aside for it
            model.Adapters.Use(null);
            Assert.All(plain.Zip(FamilyServingTests.Probabilities(model, ids)), p => Assert.Equal(p.First, p.Second, 6));

            model.Adapters.Save(dir, "a");
            string[] keys = [.. SafeTensors.ReadHeader(Path.Combine(dir, "adapter_model.safetensors")).Entries.Select(e => e.Name)];
            Assert.Contains("base_model.model.roberta.encoder.layer.1.attention.self.value.lora_B.weight", keys);
            Assert.Contains("base_model.model.classifier.dense.weight", keys);
            Assert.Contains("base_model.model.classifier.out_proj.bias", keys);
            Assert.Equal(2 * 2 * 2 + 4, keys.Length); // 2 layers x (query, value) x (A, B) + the head's dense and out_proj

        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Lora_on_a_distilbert_token_classifier_targets_q_lin_and_v_lin_and_reloads_from_its_peft_folder()
    {
        string dir = TestTemp.NewDirectory("family-train");
        try
        {
            BertConfig config = TinyConfigs.Bert() with { ModelType = "distilbert", TypeVocabSize = 0 };
            using var model = SeededWeights.Apply(new BertForTokenClassification(config, ["O", "B-X", "I-X"]), 8);
            string baseDir = Path.Combine(dir, "base");
            model.SavePretrained(baseDir);
            model.ApplyFreezePolicy(FreezePolicy.LoRA(rank: 2, dropout: 0));
            string[] lora = [.. model.named_parameters().Select(p => p.name).Where(n => n.Contains(".lora_", StringComparison.Ordinal))];
            Assert.Equal(2 * 2 * 2, lora.Length); // 2 layers x (q_lin, v_lin) x (A, B)
            Assert.Contains("distilbert.transformer.layer.1.attention.v_lin.lora_B.default.weight", lora);
            using (no_grad())
            {
                foreach (var p in model.named_parameters().Where(p => p.name.Contains("lora_B", StringComparison.Ordinal) || p.name.StartsWith("classifier.", StringComparison.Ordinal)))
                {
                    p.parameter.add_(0.2);
                }
            }

            string adapter = Path.Combine(dir, "adapter");
            model.Adapters.Save(adapter);
            var config2 = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(adapter, "adapter_config.json")))!;
            Assert.Equal(["q_lin", "v_lin"], config2["target_modules"]!.AsArray().Select(n => (string)n!));
            Assert.Contains("base_model.model.distilbert.transformer.layer.0.attention.q_lin.lora_A.weight", SafeTensors.ReadHeader(Path.Combine(adapter, "adapter_model.safetensors")).Entries.Select(e => e.Name));

            using var loaded = BertForTokenClassification.FromPretrained(baseDir);
            loaded.Adapters.Load(adapter);
            model.eval();
            loaded.eval();
            using var noGrad = no_grad();
            using Tensor ids = tensor(new long[,] { { 2, 15, 27, 3 } });
            using SequenceClassifierOutput expected = model.Forward(ids);
            using SequenceClassifierOutput actual = loaded.Forward(ids);
            Assert.True(expected.Logits.allclose(actual.Logits, rtol: 0, atol: 1e-6));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Lora_on_a_distilbert_sequence_classifier_saves_pre_classifier_and_classifier_as_peft_does_and_reloads_them()
    {
        string dir = TestTemp.NewDirectory("family-train");
        try
        {
            BertConfig config = TinyConfigs.Bert() with { ModelType = "distilbert", TypeVocabSize = 0 };
            using var model = SeededWeights.Apply(new BertForSequenceClassification(config, ["negative", "positive"]), 8);
            model.eval();
            string baseDir = Path.Combine(dir, "base");
            model.SavePretrained(baseDir);
            model.BaseModelNameOrPath = baseDir;
            using Tensor ids = tensor(new long[,] { { 2, 15, 27, 3 } });
            float[] baseLogits = Logits(model, ids);

            model.ApplyFreezePolicy(FreezePolicy.LoRA(rank: 2, dropout: 0));
            Assert.True(model.named_parameters().Where(p => p.name.StartsWith("pre_classifier.", StringComparison.Ordinal) || p.name.StartsWith("classifier.", StringComparison.Ordinal)).All(p => p.parameter.requires_grad));
            using (no_grad())
            {
                foreach (var p in model.named_parameters().Where(p => p.name.Contains("lora_B", StringComparison.Ordinal) || p.name.Contains("classifier.", StringComparison.Ordinal)))
                {
                    p.parameter.add_(0.2);
                }
            }

            float[] adapted = Logits(model, ids);
            Assert.NotEqual(baseLogits, adapted);
            string adapter = Path.Combine(dir, "adapter");
            model.SavePretrained(adapter);
            var peft = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(adapter, "adapter_config.json")))!;
            Assert.Equal(["pre_classifier", "classifier"], peft["modules_to_save"]!.AsArray().Select(n => (string)n!));
            string[] keys = [.. SafeTensors.ReadHeader(Path.Combine(adapter, "adapter_model.safetensors")).Entries.Select(e => e.Name)];
            Assert.Contains("base_model.model.pre_classifier.weight", keys);
            Assert.Contains("base_model.model.classifier.bias", keys);
            Assert.DoesNotContain(keys, k => k.Contains("classifier.pre_classifier", StringComparison.Ordinal));

            // The adapter folder alone: its base is loaded, then the adapter with both head modules.
            using var loaded = BertForSequenceClassification.FromPretrained(adapter);
            Assert.Equal(["default"], loaded.Adapters.Names);
            Assert.Equal(adapted, Logits(loaded, ids));

            // Without the adapter the model is its base again, pre_classifier included.
            model.Adapters.Use(null);
            Assert.Equal(baseLogits, Logits(model, ids));
        }
        finally
        {
            TestTemp.TryDelete(dir);
        }
    }

    [Fact]
    public void A_distilbert_adapter_on_a_headless_base_brings_both_head_modules_so_none_is_reported_missing()
    {
        string dir = TestTemp.NewDirectory("family-train");
        try
        {
            BertConfig config = TinyConfigs.Bert() with { ModelType = "distilbert", TypeVocabSize = 0 };
            string baseDir = Path.Combine(dir, "base");
            using (var encoder = new BertModel(config, addPoolingLayer: false))
            {
                encoder.SavePretrained(baseDir);
            }

            string adapter = Path.Combine(dir, "adapter");
            using (var model = BertForSequenceClassification.FromPretrained(baseDir, ["negative", "positive"]))
            {
                Assert.Equal(["classifier.bias", "classifier.weight", "pre_classifier.bias", "pre_classifier.weight"], model.LoadReport!.MissingKeys.Order(StringComparer.Ordinal));
                model.ApplyFreezePolicy(FreezePolicy.LoRA(rank: 2, dropout: 0));
                model.SavePretrained(adapter);
            }

            using var loaded = BertForSequenceClassification.FromPretrained(adapter);
            Assert.Empty(loaded.LoadReport!.MissingKeys);
        }
        finally
        {
            TestTemp.TryDelete(dir);
        }
    }

    private static float[] Logits(BertForSequenceClassification model, Tensor ids)
    {
        using var noGrad = no_grad();
        using SequenceClassifierOutput output = model.Forward(ids);
        return output.Logits.data<float>().ToArray();
    }

    private static BertForSequenceClassification SaveAndLoad(BertForSequenceClassification model, string dir)
    {
        string saved = Path.Combine(dir, "trained");
        model.SavePretrained(saved);
        return BertForSequenceClassification.FromPretrained(saved);
    }

    private static BertForSequenceClassification LoadWithAdapter(BertForSequenceClassification model, string baseDir, string dir)
    {
        string adapter = Path.Combine(dir, "adapter");
        model.Adapters.Save(adapter);
        BertForSequenceClassification loaded = BertForSequenceClassification.FromPretrained(baseDir);
        loaded.Adapters.Load(adapter);
        return loaded;
    }
}
