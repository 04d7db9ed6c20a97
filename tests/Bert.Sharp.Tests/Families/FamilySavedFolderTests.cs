using System.Text.Json.Nodes;
using Bert.Sharp.Tests.TestSupport;
using Bert.Sharp.Tests.Tokenization;
using Bert.Sharp.Tests.Training;
using Xunit;

namespace Bert.Sharp.Tests.Families;

/// <summary>
/// A RoBERTa (byte-level BPE) or XLM-R (Unigram, TestData/unigram-xlmr) classifier fine-tuned with its
/// <see cref="SubwordTokenizer"/> saves a complete folder: the tokenizer.json it was trained with (byte for byte),
/// tokenizer_config.json and special_tokens_map.json; the folder serves the trained model's predictions and tokenizes
/// a mixed corpus (Japanese included) as the original.
/// </summary>
public sealed class FamilySavedFolderTests
{
    private static readonly string[] Japanese = ["東京は日本の首都です。今日はとても良い天気ですね。", "\u3000全角スペース\u3000", "ｶﾀｶﾅ ＡＢＣ １２３", "mixed 漢字 and Latin", "北京是中国的首都。"];

    [Theory]
    [InlineData("roberta", "RobertaTokenizer")]
    [InlineData("xlm-roberta", "XLMRobertaTokenizer")]
    public void A_fine_tuned_subword_model_saves_its_tokenizer_and_the_folder_serves_what_it_computes(string modelType, string tokenizerClass)
    {
        SubwordOracle oracle = modelType == "roberta" ? SubwordOracle.Roberta : SubwordOracle.Xlmr;
        string dir = TestTemp.NewDirectory("family-saved");
        try
        {
            using var model = SeededWeights.Apply(new BertForSequenceClassification(FamilyServingTests.Config(modelType, oracle.Ours.VocabularySize), ["negative", "positive"]), 7);
            string checkpoints = Path.Combine(dir, "checkpoints");
            var tuner = new FineTuner(model, oracle.Ours, new FineTuningOptions
            {
                Epochs = 1,
                BatchSize = 8,
                LearningRate = 3e-3,
                Seed = 1,
                EvaluationStrategy = IntervalStrategy.No,
                SaveStrategy = IntervalStrategy.Epoch,
                OutputDirectory = checkpoints,
            });
            tuner.Train(ToyData.Sentiment(16));
            model.eval();
            string saved = Path.Combine(dir, "saved");
            model.SavePretrained(saved, oracle.Ours);

            // The checkpoint FineTuner wrote and the folder SavePretrained wrote are both complete.
            string checkpoint = Directory.GetDirectories(checkpoints, "checkpoint-*").Single();
            foreach (string folder in (string[])[saved, checkpoint])
            {
                Assert.Equal(File.ReadAllBytes(Path.Combine(oracle.Folder, "tokenizer.json")), File.ReadAllBytes(Path.Combine(folder, "tokenizer.json")));
                JsonNode config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "tokenizer_config.json")))!;
                Assert.Equal(tokenizerClass, (string?)config["tokenizer_class"]);
                Assert.Equal(oracle.Ours.IdToToken(1), (string?)config["pad_token"]); // the model's pad_token_id 1 (GPT-2's '"' in the RoBERTa-shaped test tokenizer)
                Assert.Equal("<s>", (string?)config["cls_token"]);
                Assert.Equal("</s>", (string?)config["sep_token"]);
                Assert.Equal(128, (int?)config["model_max_length"]); // 130 positions less pad_token_id + 1
                JsonNode map = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "special_tokens_map.json")))!;
                Assert.Equal("<unk>", (string?)map["unk_token"]);
                Assert.Equal("<mask>", (string?)map["mask_token"]);
                Assert.False(File.Exists(Path.Combine(folder, "vocab.txt")));
            }

            string[] texts = [.. ConformanceCorpus.Texts.Take(40), .. Japanese];
            var reloaded = (SubwordTokenizer)AutoTokenizer.FromPretrained(saved);
            int differing = texts.Count(t => !reloaded.Encode(t).SequenceEqual(oracle.Ours.Encode(t)) || !reloaded.Encode(t).SequenceEqual(oracle.Encode(t)));
            Assert.Equal(0, differing);
            Assert.Equal(oracle.Ours.Encode(Japanese[0], Japanese[3]), reloaded.Encode(Japanese[0], Japanese[3]));

            string[] served = ["the phone was really good", "the screen was awful", .. Japanese];
            using TextClassifier classifier = TextClassifier.FromPretrained(saved);
            using TextClassifier fromCheckpoint = TextClassifier.FromPretrained(checkpoint);
            IReadOnlyList<Prediction> batch = classifier.PredictBatch(served);
            for (int i = 0; i < served.Length; i++)
            {
                float[] expected = FamilyServingTests.Probabilities(model, oracle.Encode(served[i]));
                for (int c = 0; c < 2; c++)
                {
                    Assert.Equal(expected[c], batch[i].Probabilities[model.Labels[c]], 5);
                    Assert.Equal(expected[c], fromCheckpoint.Predict(served[i]).Probabilities[model.Labels[c]], 5);
                }
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_tokenizer_folder_config_is_written_back_unchanged()
    {
        string dir = TestTemp.NewDirectory("family-saved");
        try
        {
            string source = Path.Combine(dir, "source");
            Directory.CreateDirectory(source);
            File.Copy(Path.Combine(SubwordOracle.Xlmr.Folder, "tokenizer.json"), Path.Combine(source, "tokenizer.json"));
            const string Config = "{\"tokenizer_class\": \"XLMRobertaTokenizer\", \"model_max_length\": 77, \"pad_token\": \"<pad>\"}";
            const string Map = "{\"pad_token\": \"<pad>\"}";
            File.WriteAllText(Path.Combine(source, "tokenizer_config.json"), Config);
            File.WriteAllText(Path.Combine(source, "special_tokens_map.json"), Map);
            var tokenizer = (SubwordTokenizer)AutoTokenizer.FromPretrained(source);
            using var model = new BertForSequenceClassification(FamilyServingTests.Config("xlm-roberta", tokenizer.VocabularySize), ["a", "b"]);
            string saved = Path.Combine(dir, "saved");
            model.SavePretrained(saved, tokenizer);
            Assert.Equal(Config, File.ReadAllText(Path.Combine(saved, "tokenizer_config.json")));
            Assert.Equal(Map, File.ReadAllText(Path.Combine(saved, "special_tokens_map.json")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_tokenizer_that_cannot_be_written_is_refused_naming_what_is_missing_and_nothing_is_written()
    {
        string dir = TestTemp.NewDirectory("family-saved");
        try
        {
            SubwordTokenizer ours = SubwordOracle.Xlmr.Ours;
            using var model = new BertForSequenceClassification(FamilyServingTests.Config("xlm-roberta", ours.VocabularySize), ["a", "b"]);

            // A tokenizer holding no tokenizer.json (not read from a file).
            string noJson = Path.Combine(dir, "no-json");
            var e = Assert.Throws<InvalidOperationException>(() => model.SavePretrained(noJson, new SubwordTokenizer(ours.Parts)));
            Assert.Contains("tokenizer.json", e.Message, StringComparison.Ordinal);
            Assert.False(Directory.Exists(noJson));

            // A model whose pad_token_id is no token of the tokenizer.
            BertConfig oddConfig = FamilyServingTests.Config("xlm-roberta", ours.VocabularySize + 10) with { PadTokenId = ours.VocabularySize + 5, MaxPositionEmbeddings = ours.VocabularySize + 40 };
            using var odd = new BertForSequenceClassification(oddConfig, ["a", "b"]);
            string noPad = Path.Combine(dir, "no-pad");
            e = Assert.Throws<InvalidOperationException>(() => odd.SavePretrained(noPad, ours));
            Assert.Contains("pad_token_id", e.Message, StringComparison.Ordinal);
            Assert.Contains("tokenizer_config.json", e.Message, StringComparison.Ordinal);
            Assert.False(Directory.Exists(noPad));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
