using Bert.Sharp.Tests.TestSupport;
using Bert.Sharp.Tests.Tokenization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace Bert.Sharp.Tests.Families;

/// <summary>
/// RoBERTa, XLM-R and DistilBERT sequence and token classifiers exported to ONNX with Optimum's names (inputs
/// <c>input_ids</c> and <c>attention_mask</c> only, output <c>logits</c>): ONNX Runtime's logits equal the TorchSharp
/// model's on padded batches (RoBERTa positions counted from the non-pad tokens in the graph), in both the standard and the
/// fused-operator graphs; the exported folder serves with its tokenizer.json through OnnxTextClassifier as TextClassifier does.
/// </summary>
public sealed class FamilyOnnxExportTests
{
    private static BertConfig Config(string modelType) => modelType == "distilbert"
        ? TinyConfigs.Bert(vocab: 100, maxPositions: 40) with { ModelType = "distilbert", TypeVocabSize = 0, PadTokenId = 0 }
        : FamilyServingTests.Config(modelType, 100);

    // Right-padded rows of the given lengths: first token 0 (<s>), random real ids avoiding the pad id, padded with pad_token_id.
    private static (long[] Ids, long[] Mask, int Length) Batch(int[] lengths, int pad)
    {
        var random = new Random(1205);
        int length = lengths.Max();
        var ids = new long[lengths.Length * length];
        var mask = new long[ids.Length];
        for (int b = 0; b < lengths.Length; b++)
        {
            for (int t = 0; t < length; t++)
            {
                int i = (b * length) + t;
                bool real = t < lengths[b];
                ids[i] = !real ? pad : t == 0 ? (pad == 0 ? 2 : 0) : random.Next(pad + 1, 100);
                mask[i] = real ? 1 : 0;
            }
        }

        return (ids, mask, length);
    }

    public static TheoryData<string, bool> Cases => new()
    {
        { "roberta", true }, { "roberta", false }, { "xlm-roberta", true }, { "xlm-roberta", false }, { "distilbert", true }, { "distilbert", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Onnx_runtime_logits_equal_the_models_on_padded_batches(string modelType, bool fused)
    {
        BertConfig config = Config(modelType);
        string dir = TestTemp.NewDirectory("family-onnx");
        try
        {
            int[] lengths = [9, 4, 1, 7];
            (long[] ids, long[] mask, int length) = Batch(lengths, config.PadTokenId);
            var options = new OnnxExportOptions { UseOnnxRuntimeOperators = fused };

            using (var classifier = SeededWeights.Apply(new BertForSequenceClassification(config, ["a", "b", "c"]), 21, initializerRange: 0.2))
            {
                classifier.eval();
                string folder = Path.Combine(dir, "sequence");
                classifier.SavePretrained(folder);
                OnnxExporter.Export(folder, Path.Combine(folder, "model.onnx"), options);
                float[] expected;
                using (no_grad())
                using (Tensor i = tensor(ids, [lengths.Length, length]))
                using (Tensor m = tensor(mask, [lengths.Length, length]))
                using (SequenceClassifierOutput output = classifier.Forward(i, m))
                {
                    expected = output.Logits.data<float>().ToArray();
                }

                float[] actual = RunOnnx(Path.Combine(folder, "model.onnx"), ids, mask, lengths.Length, length);
                Assert.Equal(expected.Length, actual.Length);
                Assert.True(expected.Select(Math.Abs).Max() > 0.1, "logits too small to compare");
                Assert.All(expected.Zip(actual), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-4, $"{modelType}: {p.First} vs {p.Second}"));
            }

            using (var tagger = SeededWeights.Apply(new BertForTokenClassification(config, ["O", "B-X", "I-X"]), 22, initializerRange: 0.2))
            {
                tagger.eval();
                string folder = Path.Combine(dir, "token");
                tagger.SavePretrained(folder);
                OnnxExporter.Export(folder, Path.Combine(folder, "model.onnx"), options);
                float[] expected;
                using (no_grad())
                using (Tensor i = tensor(ids, [lengths.Length, length]))
                using (Tensor m = tensor(mask, [lengths.Length, length]))
                using (SequenceClassifierOutput output = tagger.Forward(i, m))
                {
                    expected = output.Logits.data<float>().ToArray();
                }

                float[] actual = RunOnnx(Path.Combine(folder, "model.onnx"), ids, mask, lengths.Length, length);
                Assert.Equal(expected.Length, actual.Length);
                for (int b = 0; b < lengths.Length; b++)
                {
                    for (int t = 0; t < lengths[b]; t++)
                    {
                        for (int c = 0; c < 3; c++)
                        {
                            int k = (((b * length) + t) * 3) + c;
                            Assert.True(Math.Abs(expected[k] - actual[k]) <= 1e-4, $"{modelType} token ({b}, {t}): {expected[k]} vs {actual[k]}");
                        }
                    }
                }
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("roberta")]
    [InlineData("xlm-roberta")]
    public void OnnxTextClassifier_serves_an_exported_subword_folder_as_TextClassifier_does(string modelType)
    {
        SubwordOracle oracle = modelType == "roberta" ? SubwordOracle.Roberta : SubwordOracle.Xlmr;
        string dir = TestTemp.NewDirectory("family-onnx");
        try
        {
            using var model = SeededWeights.Apply(new BertForSequenceClassification(FamilyServingTests.Config(modelType, oracle.Ours.VocabularySize), ["neg", "pos"]), 31, initializerRange: 0.1);
            model.eval();
            (string saved, string exported) = SaveAndExport(model, oracle, dir);
            Assert.True(File.Exists(Path.Combine(exported, "tokenizer.json")));

            string[] texts = ["The battery was really good.", "awful", "東京は日本の首都です。今日はとても良い天気ですね。", "mixed 漢字 and Latin", "", "a much longer text that pads the others in its batch with the model's pad token id"];
            using TextClassifier reference = TextClassifier.FromPretrained(saved);
            using OnnxTextClassifier onnx = OnnxTextClassifier.FromPretrained(exported);
            IReadOnlyList<Prediction> expected = reference.PredictBatch(texts);
            IReadOnlyList<Prediction> actual = onnx.PredictBatch(texts);
            for (int i = 0; i < texts.Length; i++)
            {
                Assert.Equal(expected[i].Label, actual[i].Label);
                foreach (string label in model.Labels)
                {
                    Assert.Equal(expected[i].Probabilities[label], actual[i].Probabilities[label], 4);
                }

                Assert.Equal(expected[i].Probabilities["pos"], onnx.Predict(texts[i]).Probabilities["pos"], 4);
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("roberta")]
    [InlineData("xlm-roberta")]
    public void OnnxTokenClassifier_serves_an_exported_subword_folder_as_TokenClassifier_does(string modelType)
    {
        SubwordOracle oracle = modelType == "roberta" ? SubwordOracle.Roberta : SubwordOracle.Xlmr;
        string dir = TestTemp.NewDirectory("family-onnx-tokens");
        try
        {
            using var model = SeededWeights.Apply(new BertForTokenClassification(FamilyServingTests.Config(modelType, oracle.Ours.VocabularySize), ["O", "B-X", "I-X"]), 5, initializerRange: 0.1);
            model.eval();
            (string saved, string exported) = SaveAndExport(model, oracle, dir);

            string[] texts = ["The battery was really good, and the screen great.", "東京は日本の首都です。今日はとても良い天気ですね。", "mixed 漢字 and Latin words", "", "a"];
            foreach (AggregationStrategy aggregation in new[] { AggregationStrategy.None, AggregationStrategy.First, AggregationStrategy.Simple })
            {
                using TokenClassifier reference = TokenClassifier.FromPretrained(saved, new TokenClassifierOptions { Aggregation = aggregation });
                using OnnxTokenClassifier onnx = OnnxTokenClassifier.FromPretrained(exported, new OnnxClassifierOptions { Aggregation = aggregation });
                IReadOnlyList<IReadOnlyList<Entity>> expected = reference.PredictBatch(texts);
                IReadOnlyList<IReadOnlyList<Entity>> actual = onnx.PredictBatch(texts);
                Assert.Contains(expected, e => e.Count > 0);
                for (int i = 0; i < texts.Length; i++)
                {
                    Assert.Equal(expected[i].Select(e => (e.Group, e.Start, e.End, e.Text)), actual[i].Select(e => (e.Group, e.Start, e.End, e.Text)));
                    Assert.All(expected[i].Zip(actual[i]), p => Assert.Equal(p.First.Score, p.Second.Score, 4));
                    Assert.All(actual[i], e => Assert.Equal(texts[i][e.Start..e.End], e.Text));
                }
            }
        }
        finally
        {
            TestTemp.TryDelete(dir);
        }
    }

    // The model saved with the oracle's tokenizer.json (dir/saved), and exported to fp32 ONNX beside its serving files (dir/onnx).
    private static (string Saved, string Exported) SaveAndExport(BertTaskModel model, SubwordOracle oracle, string dir)
    {
        string saved = Path.Combine(dir, "saved");
        model.SavePretrained(saved, oracle.Ours);
        string exported = Path.Combine(dir, "onnx");
        Directory.CreateDirectory(exported);
        OnnxExporter.Export(saved, Path.Combine(exported, "model.onnx"));
        return (saved, exported);
    }

    /// <summary>Head weights of unit spread: probabilities far from uniform, so that the int8 comparison means something.</summary>
    internal static BertForSequenceClassification DecisiveHead(BertForSequenceClassification model)
    {
        using var generator = new TorchSharp.torch.Generator(77);
        using var noGrad = no_grad();
        foreach ((string name, TorchSharp.Modules.Parameter p) in model.named_parameters())
        {
            if (name.StartsWith("classifier.", StringComparison.Ordinal) || name.StartsWith("pre_classifier.", StringComparison.Ordinal))
            {
                p.normal_(0, 1, generator);
            }
        }

        return model;
    }

    public static TheoryData<string, OnnxInt8Format> Int8Families => new()
    {
        { "roberta", OnnxInt8Format.UnsignedWeights }, { "xlm-roberta", OnnxInt8Format.UnsignedWeights }, { "distilbert", OnnxInt8Format.UnsignedWeights },
        { "roberta", OnnxInt8Format.Blockwise }, { "distilbert", OnnxInt8Format.Blockwise },
    };

    [Theory]
    [MemberData(nameof(Int8Families))]
    public void Int8_export_of_a_family_keeps_the_scores_of_the_float32_export(string modelType, OnnxInt8Format format)
    {
        string dir = TestTemp.NewDirectory("family-int8");
        try
        {
            string saved = Path.Combine(dir, "saved");
            string[] texts = [.. Training.ToyData.Sentiment(40).Select(e => e.Text), "東京は日本の首都です。今日はとても良い天気ですね。", "mixed 漢字 and Latin", "", "a"];
            if (modelType == "distilbert")
            {
                var tokenizer = BertTokenizer.FromVocabulary(TestAssets.UncasedVocabPath);
                BertConfig config = TinyConfigs.Bert(vocab: tokenizer.VocabularySize, maxPositions: 130) with { ModelType = "distilbert", TypeVocabSize = 0, PadTokenId = 0 };
                using var model = DecisiveHead(SeededWeights.Apply(new BertForSequenceClassification(config, ["neg", "pos"]), 31, initializerRange: 0.1));
                model.SavePretrained(saved, tokenizer);
            }
            else
            {
                SubwordOracle oracle = modelType == "roberta" ? SubwordOracle.Roberta : SubwordOracle.Xlmr;
                using var model = DecisiveHead(SeededWeights.Apply(new BertForSequenceClassification(FamilyServingTests.Config(modelType, oracle.Ours.VocabularySize), ["neg", "pos"]), 31, initializerRange: 0.1));
                model.SavePretrained(saved, oracle.Ours);
            }

            // All but layer 0's feed-forward output (kept float32 by default) of both layers' four projections run as int8
            // products; Blockwise keeps only the head in float32 by default.
            AssertInt8KeepsTheScores(saved, texts, minimumInt8Products: format == OnnxInt8Format.Blockwise ? 4 * 2 : (4 * 2) - 1, format);
        }
        finally
        {
            TestTemp.TryDelete(dir);
        }
    }

    /// <summary>
    /// Exports <paramref name="saved"/> (a two-label classifier) to int8 with a quality check on <paramref name="texts"/> and
    /// asserts that it passes and that it is not vacuous: at least <paramref name="minimumInt8Products"/> int8 matrix products
    /// in the graph ONNX Runtime runs, a file under 75 % of the float32 one, and float32 probabilities far from uniform.
    /// </summary>
    internal static void AssertInt8KeepsTheScores(string saved, IReadOnlyList<string> texts, int minimumInt8Products, OnnxInt8Format format = OnnxInt8Format.UnsignedWeights)
    {
        string int8 = Path.Combine(saved, "model.int8.onnx");
        OnnxQualityReport report = OnnxExporter.Export(saved, int8, new OnnxExportOptions
        {
            Quantization = OnnxQuantization.DynamicInt8,
            Int8Format = format,
            QualityCheck = new OnnxQualityCheck { Texts = texts, Scorer = OnnxExportScoring.TextClassification, OnFailure = OnnxQualityAction.Warn },
        })!;
        Assert.True(report.Passed, report.ToString());

        Dictionary<string, int> ops = Onnx.OnnxFusionReportTests.OptimizedOperatorCounts(int8);
        Assert.True(ops.GetValueOrDefault("MatMulIntegerToFloat") + ops.GetValueOrDefault("DynamicQuantizeMatMul") + ops.GetValueOrDefault("MatMulNBits") >= minimumInt8Products, string.Join(", ", ops.Select(o => $"{o.Key} {o.Value}")));
        string float32 = Path.Combine(saved, "model.onnx");
        OnnxExporter.Export(saved, float32);
        Assert.True(new FileInfo(int8).Length < 0.75 * new FileInfo(float32).Length, $"int8 {new FileInfo(int8).Length} bytes, float32 {new FileInfo(float32).Length}");
        IReadOnlyList<float[]> scores = OnnxExportScoring.TextClassification(saved, float32, texts);
        Assert.All(scores, p => Assert.Equal(1, p[0] + p[1], 4)); // both labels' probabilities, in label order
        double spread = scores.Max(p => Math.Abs(p[0] - p[1]));
        Assert.True(spread > 0.2, $"float32 probabilities differ by at most {spread} between the classes: the comparison would say little");
    }

    private static float[] RunOnnx(string path, long[] ids, long[] mask, int size, int length)
    {
        using var session = new InferenceSession(path);
        Assert.Equal(["attention_mask", "input_ids"], session.InputMetadata.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("logits", session.OutputMetadata.Keys);
        int[] dims = [size, length];
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, dims)),
        };
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run(inputs, ["logits"]);
        return results.Single().AsTensor<float>().ToArray();
    }
}
