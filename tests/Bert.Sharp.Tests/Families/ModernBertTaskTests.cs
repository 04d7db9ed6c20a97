using Bert.Sharp.Checkpoints;
using System.Text.Json.Nodes;
using Bert.Sharp.Inference;
using Bert.Sharp.Tests.TestSupport;
using Bert.Sharp.Tests.Tokenization;
using Bert.Sharp.Tests.Training;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Families;

/// <summary>
/// ModernBERT folders in the tasks: a ModernBERT-shaped byte-level BPE tokenizer.json (GPT-2's ranks with ModernBERT's
/// [CLS] / [SEP] / [PAD] / [MASK] / [UNK] and its TemplateProcessing) picked by AutoTokenizer with Hugging Face's ids
/// (Tokenizers.DotNet), TextClassifier serving the model's own probabilities, FineTuner training it with full fine-tuning
/// freeze policies and LoRA in PEFT's layout (the loss falls; what is saved loads back equal), and token classifiers with
/// ModernBERT's head. ONNX export: ModernBertOnnxExportTests.
/// </summary>
[Collection(SerialTorchGroup.Name)]
public sealed class ModernBertTaskTests
{
    private static readonly string[] Texts = ["Hello world!", "cafe\u0301 \u212B", "The battery was really good, and the screen great.", "a", "", "  spaced   out  text with [MASK] inside"];

    /// <summary>The folder holding the ModernBERT-shaped tokenizer.json (written once per test run).</summary>
    internal static readonly Lazy<string> TokenizerFolder = new(WriteModernBertTokenizer);

    private static IPretrainedTokenizer Tokenizer => AutoTokenizer.FromPretrained(TokenizerFolder.Value);

    internal static int IdOf(string token) => JsonNode.Parse(File.ReadAllText(Path.Combine(TokenizerFolder.Value, "tokenizer.json")))!["added_tokens"]!.AsArray()
        .Single(t => t!["content"]!.GetValue<string>() == token)!["id"]!.GetValue<int>();

    /// <summary>A tiny ModernBERT sequence classifier over that tokenizer's vocabulary, weights from <paramref name="seed"/>.</summary>
    internal static BertForSequenceClassification Model(int seed, string pooling = "cls")
    {
        int vocab = JsonNode.Parse(File.ReadAllText(Path.Combine(TokenizerFolder.Value, "tokenizer.json")))!["model"]!["vocab"]!.AsObject().Count;
        BertConfig config = ModernBertTests.Config(vocab: vocab, pooling: pooling, pad: IdOf("[PAD]"));
        return SeededWeights.Apply(new BertForSequenceClassification(config, ["negative", "positive"]), seed);
    }

    [Fact]
    public void Auto_tokenizer_gives_hugging_face_ids_for_a_modernbert_tokenizer_json()
    {
        using var reference = new Tokenizers.DotNet.Tokenizer(Path.Combine(TokenizerFolder.Value, "tokenizer.json"));
        IPretrainedTokenizer ours = Tokenizer;
        foreach (string text in Texts)
        {
            int[] expected = [.. reference.Encode(text).Select(i => (int)i)];
            Assert.Equal(IdOf("[CLS]"), expected[0]);
            Assert.Equal(IdOf("[SEP]"), expected[^1]);
            Assert.Equal(expected, ours.Encode(text));
        }
    }

    [Theory]
    [InlineData("cls")]
    [InlineData("mean")]
    public void TextClassifier_serves_a_modernbert_folder_with_the_models_probabilities(string pooling)
    {
        using var reference = new Tokenizers.DotNet.Tokenizer(Path.Combine(TokenizerFolder.Value, "tokenizer.json"));
        using BertForSequenceClassification model = Model(11, pooling);
        model.eval();
        string dir = TestTemp.NewDirectory("modernbert-serve");
        try
        {
            model.SavePretrained(dir);
            File.Copy(Path.Combine(TokenizerFolder.Value, "tokenizer.json"), Path.Combine(dir, "tokenizer.json"));
            using TextClassifier classifier = TextClassifier.FromPretrained(dir);
            IReadOnlyList<Prediction> batch = classifier.PredictBatch(Texts);
            for (int i = 0; i < Texts.Length; i++)
            {
                int[] ids = [.. reference.Encode(Texts[i]).Select(x => (int)x)];
                float[] expected = FamilyServingTests.Probabilities(model, ids);
                Prediction single = classifier.Predict(Texts[i]);
                for (int c = 0; c < 2; c++)
                {
                    Assert.Equal(expected[c], single.Probabilities[model.Labels[c]], 5);
                    Assert.Equal(expected[c], batch[i].Probabilities[model.Labels[c]], 5); // padded among longer texts
                }
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("full")]
    [InlineData("top1")]
    [InlineData("transfer")]
    [InlineData("frozen-embeddings")]
    [InlineData("gradual")]
    [InlineData("lora")]
    public void A_modernbert_classifier_fine_tunes_and_saves_what_it_computes(string policy)
    {
        string dir = TestTemp.NewDirectory("modernbert-train");
        try
        {
            using BertForSequenceClassification model = Model(3);
            if (policy == "lora")
            {
                string baseDir = Path.Combine(dir, "base");
                model.SavePretrained(baseDir);
                model.BaseModelNameOrPath = baseDir;
            }

            var tuner = new FineTuner(model, (SubwordTokenizer)Tokenizer, new FineTuningOptions
            {
                Epochs = 4,
                BatchSize = 8,
                LearningRate = policy is "transfer" or "lora" ? 1e-2 : 3e-3,
                FreezePolicy = policy switch
                {
                    "full" => FreezePolicy.FullFineTuning(),
                    "top1" => FreezePolicy.FineTuneTopLayers(1),
                    "lora" => FreezePolicy.LoRA(rank: 4, alpha: 8, dropout: 0),
                    "frozen-embeddings" => FreezePolicy.FreezeEmbeddings(),
                    "gradual" => FreezePolicy.GradualUnfreezing(),
                    _ => FreezePolicy.TransferLearning(),
                },
                Seed = 5,
                EvaluationStrategy = IntervalStrategy.No,
                SaveStrategy = IntervalStrategy.No,
            });
            TrainingReport report = tuner.Train(ToyData.Sentiment(48));
            Assert.True(report.EpochLosses[^1] < report.EpochLosses[0], $"{policy}: epoch losses {string.Join(", ", report.EpochLosses)}");

            model.eval();
            int[] ids = [.. Tokenizer.Encode("the phone was really good")];
            float[] trained = FamilyServingTests.Probabilities(model, ids);
            string saved = Path.Combine(dir, "trained");
            model.SavePretrained(saved);
            if (policy == "lora")
            {
                // PEFT's layout: the packed projection of every layer adapted, ModernBERT's head saved with the classifier.
                JsonNode peft = JsonNode.Parse(File.ReadAllText(Path.Combine(saved, "adapter_config.json")))!;
                Assert.Equal(["Wqkv"], peft["target_modules"]!.AsArray().Select(n => (string)n!));
                Assert.Equal(["head", "classifier"], peft["modules_to_save"]!.AsArray().Select(n => (string)n!));
                string[] keys = [.. SafeTensors.ReadHeader(Path.Combine(saved, "adapter_model.safetensors")).Entries.Select(e => e.Name)];
                Assert.Contains("base_model.model.model.layers.2.attn.Wqkv.lora_B.weight", keys);
                Assert.Contains("base_model.model.head.dense.weight", keys);
            }
            else
            {
                JsonNode config = JsonNode.Parse(File.ReadAllText(Path.Combine(saved, "config.json")))!;
                Assert.Equal("modernbert", config["model_type"]!.GetValue<string>());
                Assert.Equal("ModernBertForSequenceClassification", config["architectures"]![0]!.GetValue<string>());
            }

            using BertForSequenceClassification loaded = BertForSequenceClassification.FromPretrained(saved);
            loaded.eval();
            Assert.Empty(loaded.NewlyInitializedKeys);
            float[] reloaded = FamilyServingTests.Probabilities(loaded, ids);
            Assert.All(trained.Zip(reloaded), p => Assert.Equal(p.First, p.Second, 6));
            if (policy == "lora")
            {
                // merge_and_unload: the same probabilities from a plain model.
                loaded.Adapters.Merge();
                Assert.All(trained.Zip(FamilyServingTests.Probabilities(loaded, ids)), p => Assert.Equal(p.First, p.Second, 5));
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_base_folder_gets_a_new_head_named_as_hugging_face_names_it()
    {
        string dir = TestTemp.NewDirectory("modernbert-base");
        try
        {
            using (var encoder = new BertModel(ModernBertTests.Config()))
            {
                encoder.SavePretrained(dir);
            }

            using var model = BertForSequenceClassification.FromPretrained(dir, ["neg", "pos"], new ClassifierLoadOptions { Seed = 1 });
            Assert.Equal(["classifier.bias", "classifier.weight", "head.dense.weight", "head.norm.weight"], model.NewlyInitializedKeys.Order(StringComparer.Ordinal));
            Assert.Equal(["model.embeddings", "model.layers.0", "model.layers.1", "model.layers.2", "model.final_norm", "classifier"], model.Units.Select(u => u.ParameterPrefix.Length == 0 ? u.Name : u.ParameterPrefix));
            Assert.Equal(["classifier.bias", "classifier.weight", "head.dense.weight", "head.norm.weight"], model.Units[^1].NamedParameters().Select(p => p.Name).Order(StringComparer.Ordinal));

            // The same base as a token classifier: the same new head; a saved tagger loads back whole.
            using var tagger = BertForTokenClassification.FromPretrained(dir, ["O", "B-X", "I-X"], new ClassifierLoadOptions { Seed = 1 });
            Assert.Equal(["classifier.bias", "classifier.weight", "head.dense.weight", "head.norm.weight"], tagger.LoadReport!.MissingKeys.Order(StringComparer.Ordinal));
            string saved = Path.Combine(dir, "tagger");
            tagger.SavePretrained(saved);
            Assert.Equal("ModernBertForTokenClassification", JsonNode.Parse(File.ReadAllText(Path.Combine(saved, "config.json")))!["architectures"]![0]!.GetValue<string>());
            using var reloaded = BertForTokenClassification.FromPretrained(saved);
            Assert.Empty(reloaded.LoadReport!.MissingKeys);
            Assert.Equal(3, reloaded.NumLabels);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void SentenceEmbedder_serves_a_modernbert_folder_as_the_mean_of_its_final_states()
    {
        using var reference = new Tokenizers.DotNet.Tokenizer(Path.Combine(TokenizerFolder.Value, "tokenizer.json"));
        using BertModel encoder = Model(9).Bert;
        string dir = TestTemp.NewDirectory("modernbert-embed");
        try
        {
            encoder.SavePretrained(dir);
            File.Copy(Path.Combine(TokenizerFolder.Value, "tokenizer.json"), Path.Combine(dir, "tokenizer.json"));
            using SentenceEmbedder embedder = SentenceEmbedder.FromPretrained(dir, new SentenceEmbeddingOptions { Normalize = false });
            float[][] vectors = embedder.Embed(Texts[..3]);
            for (int i = 0; i < 3; i++)
            {
                long[] ids = [.. reference.Encode(Texts[i]).Select(x => (long)x)];
                using var noGrad = no_grad();
                using BertModelOutput output = encoder.Forward(tensor(ids).unsqueeze(0));
                float[] expected = output.LastHiddenState.mean([1]).squeeze(0).data<float>().ToArray();
                Assert.All(expected.Zip(vectors[i]), p => Assert.Equal(p.First, p.Second, 4));
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_modernbert_token_classifier_fine_tunes_and_TokenClassifier_serves_its_scores()
    {
        List<TaggedSentence> data = Tasks.ToyTagging.PersonSentences(32, seed: 3);

        int vocab = JsonNode.Parse(File.ReadAllText(Path.Combine(TokenizerFolder.Value, "tokenizer.json")))!["model"]!["vocab"]!.AsObject().Count;
        string[] labels = ["O", "B-PER"];
        using var model = SeededWeights.Apply(new BertForTokenClassification(ModernBertTests.Config(vocab: vocab, pad: IdOf("[PAD]")), labels), 6);
        var tokenizer = (SubwordTokenizer)Tokenizer;
        var tuner = new FineTuner(model, tokenizer, new FineTuningOptions
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

        model.eval();
        string dir = TestTemp.NewDirectory("modernbert-tag");
        try
        {
            model.SavePretrained(dir);
            File.Copy(Path.Combine(TokenizerFolder.Value, "tokenizer.json"), Path.Combine(dir, "tokenizer.json"));
            using TokenClassifier tagger = TokenClassifier.FromPretrained(dir, new TokenClassifierOptions { Aggregation = AggregationStrategy.None });
            const string text = "Alice met the team at noon and Bob left";
            IReadOnlyList<Entity> entities = tagger.Predict(text);

            using var reference = new Tokenizers.DotNet.Tokenizer(Path.Combine(TokenizerFolder.Value, "tokenizer.json"));
            long[] ids = [.. reference.Encode(text).Select(x => (long)x)];
            IReadOnlyList<(int Id, TokenOffset Offset)> pieces = tokenizer.EncodeWithOffsets(text);
            Assert.Equal(ids[1..^1].Select(x => (int)x), pieces.Select(p => p.Id));
            float[] flat;
            using (var noGrad = no_grad())
            {
                using SequenceClassifierOutput output = model.Forward(tensor(ids).unsqueeze(0));
                flat = output.Logits.softmax(-1).squeeze(0).data<float>().ToArray();
            }

            var expected = new List<(int Start, int End, float Score)>();
            for (int t = 1; t < ids.Length - 1; t++)
            {
                float[] p = flat[(t * 2)..((t + 1) * 2)];
                if (p[1] > p[0])
                {
                    expected.Add((pieces[t - 1].Offset.Start, pieces[t - 1].Offset.End, p[1]));
                }
            }

            Assert.NotEmpty(expected);
            Assert.Equal(expected.Select(e => (e.Start, e.End)), entities.Select(e => (e.Start, e.End)));
            Assert.All(entities.Zip(expected), p => Assert.Equal(p.Second.Score, p.First.Score, 5));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    // The RoBERTa-shaped GPT-2 byte-level BPE of SubwordOracle with an NFC normalizer, ModernBERT's special tokens and post-processor
    // (TemplateProcessing: [CLS] A [SEP], pair [CLS] A [SEP] B [SEP]; [MASK] strips left, as ModernBERT's does).
    private static string WriteModernBertTokenizer()
    {
        JsonObject root = JsonNode.Parse(File.ReadAllText(Path.Combine(SubwordOracle.Roberta.Folder, "tokenizer.json")))!.AsObject();
        JsonObject vocab = root["model"]!["vocab"]!.AsObject();
        var renames = new Dictionary<string, string> { ["<s>"] = "[CLS]", ["<pad>"] = "[PAD]", ["</s>"] = "[SEP]", ["<unk>"] = "[UNK]", ["<mask>"] = "[MASK]" };
        var ids = new Dictionary<string, int>();
        foreach (JsonNode? added in root["added_tokens"]!.AsArray())
        {
            string old = added!["content"]!.GetValue<string>();
            int id = added["id"]!.GetValue<int>();
            vocab.Remove(old);
            vocab[renames[old]] = id;
            added["content"] = renames[old];
            added["normalized"] = false;
            ids[renames[old]] = id;
        }

        static JsonObject Special(string token, int type) => new() { ["SpecialToken"] = new JsonObject { ["id"] = token, ["type_id"] = type } };
        static JsonObject Sequence(string id, int type) => new() { ["Sequence"] = new JsonObject { ["id"] = id, ["type_id"] = type } };
        root["normalizer"] = new JsonObject { ["type"] = "NFC" }; // GPT-NeoX-derived vocabularies normalize to NFC
        root["post_processor"] = new JsonObject
        {
            ["type"] = "TemplateProcessing",
            ["single"] = new JsonArray(Special("[CLS]", 0), Sequence("A", 0), Special("[SEP]", 0)),
            ["pair"] = new JsonArray(Special("[CLS]", 0), Sequence("A", 0), Special("[SEP]", 0), Sequence("B", 1), Special("[SEP]", 1)),
            ["special_tokens"] = new JsonObject
            {
                ["[CLS]"] = new JsonObject { ["id"] = "[CLS]", ["ids"] = new JsonArray(ids["[CLS]"]), ["tokens"] = new JsonArray("[CLS]") },
                ["[SEP]"] = new JsonObject { ["id"] = "[SEP]", ["ids"] = new JsonArray(ids["[SEP]"]), ["tokens"] = new JsonArray("[SEP]") },
            },
        };
        string folder = TestTemp.NewDirectory("modernbert-tokenizer");
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), root.ToJsonString());
        return folder;
    }
}
