using Bert.Sharp.Tests.Families;
using Bert.Sharp.Tests.TestSupport;
using Bert.Sharp.Tests.Tokenization;
using Xunit;

namespace Bert.Sharp.Tests.Conformance;

/// <summary>
/// Hugging Face's own JavaScript library reading what Bert.Sharp writes: a model of each family saved with its tokenizer
/// (<c>SavePretrained(folder, tokenizer)</c>) and exported in Optimum's layout (<c>onnx/model.onnx</c>, and the int8
/// export as <c>onnx/model_quantized.onnx</c>) is loaded by transformers.js' <c>AutoTokenizer</c> and
/// <c>AutoModelForSequenceClassification</c> / <c>AutoModelForTokenClassification</c> and its text-classification pipeline.
/// Its ids must be ours, its probabilities those of Bert.Sharp's TorchSharp model (TextClassifier) and of the ONNX
/// serving package, alone and in a padded batch, and the pipeline must name the labels as we do; a base model's
/// feature-extraction pipeline (mean pooling, normalised) must embed as <see cref="SentenceEmbedder"/> does. transformers.js shares
/// no code with Bert.Sharp: its tokenizers are Hugging Face's JavaScript port, its model classes read config.json by
/// <c>model_type</c>, and it runs the graph in its own ONNX Runtime (onnxruntime-node).
/// </summary>
public sealed class TransformersJsTests
{
    private const double Tolerance = 1e-4;

    // English, accents (composed and combining), Japanese (kanji, kana, full- and half-width forms), emoji with a skin tone,
    // runs of spaces, an empty text; short enough for the tiny models' positions.
    private static readonly string[] Texts =
    [
        "Hello world!",
        "The battery was really good, and the screen great.",
        "a",
        "",
        "  spaced   out  text",
        "Café déjà vu, naïve façade",
        "cafe\u0301 \u212B",
        "東京は日本の首都です。今日はとても良い天気ですね。",
        "ｶﾀｶﾅ ＡＢＣ １２３",
        "mixed 漢字 and Latin",
        "I love it 😍👍🏽",
    ];

    public static TheoryData<string> Families => ["bert", "roberta", "xlm-roberta", "distilbert", "modernbert"];

    [Theory]
    [MemberData(nameof(Families))]
    public void Transformers_js_reads_a_saved_and_exported_sequence_classifier_as_bert_sharp_does(string family)
    {
        string[] labels = ["negative", "positive", "neutral"];
        string dir = TestTemp.NewDirectory("tjs-sequence");
        try
        {
            IPretrainedTokenizer tokenizer;
            using (var model = SeededWeights.Apply(new BertForSequenceClassification(Config(family), labels), 31, initializerRange: 0.2))
            {
                model.eval();
                tokenizer = Save(family, model, dir);
            }

            OnnxExporter.Export(dir, Path.Combine(dir, "onnx", "model.onnx"), new OnnxExportOptions { CopyServingFiles = false });
            OnnxExporter.Export(dir, Path.Combine(dir, "onnx", "model_quantized.onnx"), new OnnxExportOptions { CopyServingFiles = false, Quantization = OnnxQuantization.DynamicInt8 });

            TransformersJs.Result js = TransformersJs.Score(dir, "sequence-classification", Texts);
            AssertSameIds(family, dir, tokenizer, js);

            // TextClassifier one text at a time (unpadded, as a service calls it) and all texts at once (padded batches).
            IReadOnlyList<Prediction> ours, oursAlone;
            using (TextClassifier classifier = TextClassifier.FromPretrained(dir))
            {
                ours = classifier.PredictBatch(Texts);
                oursAlone = [.. Texts.Select(t => classifier.Predict(t))];
            }

            // The ONNX serving package finds the graph in the same layout (onnx/model.onnx when the folder has no model.onnx).
            IReadOnlyList<Prediction> onnx;
            using (OnnxTextClassifier classifier = OnnxTextClassifier.FromPretrained(dir))
            {
                onnx = classifier.PredictBatch(Texts);
            }

            Assert.True(ours.Max(p => p.Probabilities.Values.Max() - p.Probabilities.Values.Min()) > 0.05, $"{family}: the probabilities barely differ between labels; nothing would be compared");
            for (int i = 0; i < Texts.Length; i++)
            {
                for (int c = 0; c < labels.Length; c++)
                {
                    double expected = ours[i].Probabilities[labels[c]];
                    AssertClose(oursAlone[i].Probabilities[labels[c]], js.Probabilities[i][c], family, i, $"label {labels[c]}, one text");
                    AssertClose(expected, js.BatchProbabilities[i][c], family, i, $"label {labels[c]}, padded batch");
                    AssertClose(expected, onnx[i].Probabilities[labels[c]], family, i, $"label {labels[c]}, OnnxTextClassifier");
                }

                // The pipeline names the labels from config.json's id2label, best first, as Prediction does.
                Assert.Equal(labels.OrderBy(l => l, StringComparer.Ordinal), js.Pipeline[i].Select(s => s.Label).OrderBy(l => l, StringComparer.Ordinal));
                Assert.Equal(ours[i].Label, js.Pipeline[i][0].Label);
                Assert.All(js.Pipeline[i], s => AssertClose(ours[i].Probabilities[s.Label], s.Score, family, i, $"pipeline {s.Label}"));
            }

            // The int8 export as transformers.js' q8 file: the same numbers as the ONNX serving package gives for that file.
            TransformersJs.Result q8 = TransformersJs.Score(dir, "sequence-classification", Texts, "q8");
            using (OnnxTextClassifier int8 = OnnxTextClassifier.FromPretrained(dir, new OnnxClassifierOptions { ModelFileName = Path.Combine("onnx", "model_quantized.onnx") }))
            {
                IReadOnlyList<Prediction> expected = int8.PredictBatch(Texts);
                for (int i = 0; i < Texts.Length; i++)
                {
                    Assert.Equal(js.Ids[i], q8.Ids[i]);
                    for (int c = 0; c < labels.Length; c++)
                    {
                        AssertClose(expected[i].Probabilities[labels[c]], q8.Probabilities[i][c], family, i, $"label {labels[c]}, int8");
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
    [MemberData(nameof(Families))]
    public void Transformers_js_reads_a_saved_and_exported_token_classifier_as_bert_sharp_does(string family)
    {
        string[] labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];
        string dir = TestTemp.NewDirectory("tjs-token");
        try
        {
            using var model = SeededWeights.Apply(new BertForTokenClassification(Config(family), labels), 37, initializerRange: 0.2);
            model.eval();
            IPretrainedTokenizer tokenizer = Save(family, model, dir);
            OnnxExporter.Export(dir, Path.Combine(dir, "onnx", "model.onnx"), new OnnxExportOptions { CopyServingFiles = false });

            TransformersJs.Result js = TransformersJs.Score(dir, "token-classification", Texts);
            AssertSameIds(family, dir, tokenizer, js);
            for (int i = 0; i < Texts.Length; i++)
            {
                float[][] expected = FamilyServingTests.TokenProbabilities(model, js.Ids[i]);
                Assert.Equal(expected.Length * labels.Length, js.Probabilities[i].Length);
                Assert.Equal(expected.Length * labels.Length, js.BatchProbabilities[i].Length);
                for (int t = 0; t < expected.Length; t++)
                {
                    for (int c = 0; c < labels.Length; c++)
                    {
                        AssertClose(expected[t][c], js.Probabilities[i][(t * labels.Length) + c], family, i, $"token {t}, label {labels[c]}");
                        AssertClose(expected[t][c], js.BatchProbabilities[i][(t * labels.Length) + c], family, i, $"token {t}, label {labels[c]}, padded batch");
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
    [MemberData(nameof(Families))]
    public void Transformers_js_embeds_a_saved_and_exported_base_model_as_sentence_embedder_does(string family)
    {
        string dir = TestTemp.NewDirectory("tjs-embed");
        try
        {
            IPretrainedTokenizer tokenizer;
            using (var model = SeededWeights.Apply(new BertModel(Config(family)), 41, initializerRange: 0.2))
            {
                model.eval();
                tokenizer = SaveBase(family, model, dir);
            }

            OnnxExporter.Export(dir, Path.Combine(dir, "onnx", "model.onnx"), new OnnxExportOptions { CopyServingFiles = false });

            // transformers.js: the feature-extraction pipeline with mean pooling and normalisation, as its users embed.
            TransformersJs.Result js = TransformersJs.Score(dir, "feature-extraction", Texts);
            AssertSameIds(family, dir, tokenizer, js);
            // SentenceEmbedder one text at a time (unpadded, as a service calls it) and all texts at once (padded batches).
            float[][] ours, oursAlone;
            using (SentenceEmbedder embedder = SentenceEmbedder.FromPretrained(dir, new SentenceEmbeddingOptions { Pooling = PoolingStrategy.Mean, Normalize = true }))
            {
                ours = embedder.Embed(Texts);
                oursAlone = [.. Texts.Select(embedder.Embed)];
            }

            for (int i = 0; i < Texts.Length; i++)
            {
                Assert.Equal(ours[i].Length, js.Probabilities[i].Length);
                Assert.Equal(ours[i].Length, js.BatchProbabilities[i].Length);
                for (int d = 0; d < ours[i].Length; d++)
                {
                    AssertClose(oursAlone[i][d], js.Probabilities[i][d], family, i, $"dimension {d}, one text");
                    AssertClose(ours[i][d], js.BatchProbabilities[i][d], family, i, $"dimension {d}, padded batch");
                }
            }

            // Texts embed differently (a model whose every embedding were alike would compare nothing).
            Assert.True(Math.Abs(ours[0].Zip(ours[7]).Sum(p => p.First * p.Second)) < 0.999, $"{family}: two different texts embed alike");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    // Every text gets from transformers.js' tokenizer, reading the files we wrote, the ids of the tokenizer the model was
    // saved with (what training used), and so the ids of our own tokenizer reading the same folder.
    private static void AssertSameIds(string family, string dir, IPretrainedTokenizer saved, TransformersJs.Result js)
    {
        IPretrainedTokenizer reloaded = AutoTokenizer.FromPretrained(dir);
        Assert.Equal(Texts.Length, js.Ids.Length);
        for (int i = 0; i < Texts.Length; i++)
        {
            int[] expected = [.. saved.Encode(Texts[i])];
            Assert.True(expected.SequenceEqual(js.Ids[i]), $"{family} ({js.Tokenizer}), text #{i} '{Texts[i]}': the saved tokenizer [{string.Join(' ', expected)}], transformers.js [{string.Join(' ', js.Ids[i])}]");
            Assert.Equal(expected, reloaded.Encode(Texts[i]));
        }
    }

    private static void AssertClose(double expected, double actual, string family, int text, string what) =>
        Assert.True(Math.Abs(expected - actual) <= Tolerance, $"{family}, text #{text} '{Texts[text]}', {what}: Bert.Sharp {expected:R}, transformers.js {actual:R}");

    private static BertConfig Config(string family) => family switch
    {
        "bert" => TinyConfigs.Bert(vocab: BertVocabularySize, maxPositions: 64),
        "distilbert" => TinyConfigs.Bert(vocab: BertVocabularySize, maxPositions: 64) with { ModelType = "distilbert", TypeVocabSize = 0, PadTokenId = 0 },
        "roberta" => FamilyServingTests.Config("roberta", SubwordOracle.Roberta.Ours.VocabularySize),
        "xlm-roberta" => FamilyServingTests.Config("xlm-roberta", SubwordOracle.Xlmr.Ours.VocabularySize),
        "modernbert" => ModernBertTests.Config(vocab: ModernBertVocabularySize, pooling: "mean", pad: ModernBertTaskTests.IdOf("[PAD]")),
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, null),
    };

    // The family's tokenizer: WordPiece from the uncased vocabulary, or the byte-level BPE / Unigram of a tokenizer.json.
    private static IPretrainedTokenizer Tokenizer(string family) => family switch
    {
        "bert" or "distilbert" => BertTokenizer.FromVocabulary(TestAssets.UncasedVocabPath),
        "roberta" => SubwordOracle.Roberta.Ours,
        "xlm-roberta" => SubwordOracle.Xlmr.Ours,
        _ => AutoTokenizer.FromPretrained(ModernBertTaskTests.TokenizerFolder.Value),
    };

    // Saved as FineTuner saves a trained model: the weights with the tokenizer it was trained with (returned).
    private static IPretrainedTokenizer Save(string family, BertTaskModel model, string dir)
    {
        IPretrainedTokenizer tokenizer = Tokenizer(family);
        if (tokenizer is BertTokenizer wordPiece)
        {
            model.SavePretrained(dir, wordPiece);
        }
        else
        {
            model.SavePretrained(dir, (SubwordTokenizer)tokenizer);
        }

        return tokenizer;
    }

    // A base model saved with its tokenizer files, as the task models save theirs.
    private static IPretrainedTokenizer SaveBase(string family, BertModel model, string dir)
    {
        IPretrainedTokenizer tokenizer = Tokenizer(family);
        if (tokenizer is BertTokenizer wordPiece)
        {
            model.SavePretrained(dir, wordPiece);
            return tokenizer;
        }

        model.SavePretrained(dir);
        var writer = new Bert.Sharp.IO.ModelFolderWriter(dir);
        Bert.Sharp.Tokenization.SubwordTokenizerFiles.For((SubwordTokenizer)tokenizer, model.Config.PadTokenId, model.Config.MaxSequenceLength, dir).AddTo(writer);
        writer.Commit();
        return tokenizer;
    }

    private static int BertVocabularySize => File.ReadLines(TestAssets.UncasedVocabPath).Count();

    private static int ModernBertVocabularySize => ((SubwordTokenizer)AutoTokenizer.FromPretrained(ModernBertTaskTests.TokenizerFolder.Value)).VocabularySize;
}
