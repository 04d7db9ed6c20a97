using Bert.Sharp.Inference;
using Bert.Sharp.Tests.TestSupport;
using Bert.Sharp.Tests.Tokenization;
using Xunit;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Families;

/// <summary>
/// RoBERTa and XLM-R folders with a tokenizer.json (byte-level BPE from GPT-2's ranks, the Unigram of TestData/unigram-xlmr)
/// served end-to-end by TextClassifier, TokenClassifier and SentenceEmbedder: the ids are Hugging Face's (Tokenizers.DotNet),
/// and the predictions are the model's own forward pass on those ids.
/// </summary>
public sealed class FamilyServingTests
{
    private static readonly string[] EnglishTexts = ["Hello world!", "The battery was really good, and the screen great.", "a", "", "  spaced   out  text with <mask> inside"];

    private static readonly string[] JapaneseTexts = ["東京は日本の首都です。今日はとても良い天気ですね。", "\u3000全角スペース\u3000", "ｶﾀｶﾅ ＡＢＣ １２３", "mixed 漢字 and Latin", "北京是中国的首都。"];

    internal static BertConfig Config(string modelType, int vocab) => TinyConfigs.Bert(vocab: vocab, maxPositions: 130) with
    {
        ModelType = modelType,
        PadTokenId = 1,
        TypeVocabSize = 1,
    };

    internal static string Folder(SubwordOracle oracle, Action<string> save)
    {
        string dir = TestTemp.NewDirectory("family-serve");
        save(dir);
        File.Copy(Path.Combine(oracle.Folder, "tokenizer.json"), Path.Combine(dir, "tokenizer.json"));
        return dir;
    }

    [Theory]
    [InlineData("roberta")]
    [InlineData("xlm-roberta")]
    public void TextClassifier_serves_a_subword_folder_with_hugging_face_ids_and_the_models_probabilities(string modelType)
    {
        SubwordOracle oracle = modelType == "roberta" ? SubwordOracle.Roberta : SubwordOracle.Xlmr;
        string[] texts = modelType == "roberta" ? EnglishTexts : JapaneseTexts;
        using var model = SeededWeights.Apply(new BertForSequenceClassification(Config(modelType, oracle.Ours.VocabularySize), ["neg", "pos", "mid"]), 11);
        model.eval();
        string dir = Folder(oracle, d => model.SavePretrained(d));
        try
        {
            using TextClassifier classifier = TextClassifier.FromPretrained(dir);
            IReadOnlyList<Prediction> batch = classifier.PredictBatch(texts);
            for (int i = 0; i < texts.Length; i++)
            {
                int[] ids = oracle.Encode(texts[i]);
                float[] expected = Probabilities(model, ids);
                Prediction single = classifier.Predict(texts[i]);
                for (int c = 0; c < 3; c++)
                {
                    Assert.Equal(expected[c], single.Probabilities[model.Labels[c]], 5);
                    Assert.Equal(expected[c], batch[i].Probabilities[model.Labels[c]], 5); // padded with pad_token_id 1 among longer texts
                }
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Xlmr_serving_encoder_gives_the_ids_of_hugging_face_tokenizers_on_japanese()
    {
        var encoder = (SubwordTextEncoder)ServingTextEncoders.Load(SubwordOracle.Xlmr.Folder, padTokenId: 1);
        foreach (string text in JapaneseTexts)
        {
            Assert.Equal(SubwordOracle.Xlmr.Encode(text), encoder.Encode([text], null, 512)[0].InputIds);
        }

        // Pairs: <s> A </s></s> B </s>, all of token type 0; truncated longest first to the budget.
        EncodedText pair = encoder.Encode([JapaneseTexts[0]], [JapaneseTexts[4]], 512)[0];
        Assert.Equal(SubwordOracle.Xlmr.Encode(JapaneseTexts[0], JapaneseTexts[4]), pair.InputIds);
        Assert.All(pair.TokenTypeIds, t => Assert.Equal(0, t));
        EncodedText cut = encoder.Encode([JapaneseTexts[0]], [JapaneseTexts[4]], 12)[0];
        Assert.Equal(12, cut.InputIds.Length);
        Assert.Equal(0, cut.InputIds[0]);
        Assert.Equal(2, cut.InputIds[^1]);
    }

    [Fact]
    public void Wordpiece_folders_still_get_bert_tokenizer()
    {
        string dir = TestTemp.NewDirectory("family-serve");
        try
        {
            File.Copy(TestAssets.UncasedVocabPath, Path.Combine(dir, "vocab.txt"));
            Assert.IsType<TokenizerTextEncoder>(ServingTextEncoders.Load(dir, padTokenId: 0));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("roberta")]
    [InlineData("xlm-roberta")]
    public void TokenClassifier_serves_a_subword_folder_with_offsets_of_the_text_and_the_models_scores(string modelType)
    {
        SubwordOracle oracle = modelType == "roberta" ? SubwordOracle.Roberta : SubwordOracle.Xlmr;
        string text = modelType == "roberta" ? "The battery was really good, and the screen great." : JapaneseTexts[0];
        string[] labels = ["O", "B-X", "I-X"];
        using var model = SeededWeights.Apply(new BertForTokenClassification(Config(modelType, oracle.Ours.VocabularySize), labels), 5);
        model.eval();
        string dir = Folder(oracle, d => model.SavePretrained(d));
        try
        {
            using TokenClassifier tagger = TokenClassifier.FromPretrained(dir, new TokenClassifierOptions { Aggregation = AggregationStrategy.None });
            IReadOnlyList<Entity> entities = tagger.Predict(text);

            int[] ids = oracle.Encode(text);
            IReadOnlyList<(int Id, TokenOffset Offset)> pieces = oracle.Ours.EncodeWithOffsets(text);
            Assert.Equal(ids[1..^1], pieces.Select(p => p.Id));
            float[][] probabilities = TokenProbabilities(model, ids);
            var expected = new List<(int Start, int End, float Score)>();
            for (int t = 1; t < ids.Length - 1; t++)
            {
                int best = Array.IndexOf(probabilities[t], probabilities[t].Max());
                if (labels[best] != "O")
                {
                    expected.Add((pieces[t - 1].Offset.Start, pieces[t - 1].Offset.End, probabilities[t][best]));
                }
            }

            Assert.NotEmpty(expected);
            Assert.Equal(expected.Select(e => (e.Start, e.End)), entities.Select(e => (e.Start, e.End)));
            Assert.All(entities.Zip(expected), p => Assert.Equal(p.Second.Score, p.First.Score, 5));
            Assert.All(entities, e => Assert.Equal(text[e.Start..e.End], e.Text));

            // Word grouping (first strategy) runs on the same tokens: every entity is a whole span of the text.
            using TokenClassifier words = TokenClassifier.FromPretrained(dir);
            Assert.All(words.Predict(text), e => Assert.True(e.Start < e.End && e.End <= text.Length));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("roberta")]
    [InlineData("xlm-roberta")]
    public void SentenceEmbedder_serves_a_subword_folder_as_the_mean_of_the_encoders_states(string modelType)
    {
        SubwordOracle oracle = modelType == "roberta" ? SubwordOracle.Roberta : SubwordOracle.Xlmr;
        string[] texts = modelType == "roberta" ? EnglishTexts[..3] : JapaneseTexts[..3];
        using var encoder = new BertModel(Config(modelType, oracle.Ours.VocabularySize), addPoolingLayer: false);
        encoder.eval();
        string dir = Folder(oracle, d => encoder.SavePretrained(d));
        try
        {
            using SentenceEmbedder embedder = SentenceEmbedder.FromPretrained(dir, new SentenceEmbeddingOptions { Normalize = false });
            Assert.Equal(PoolingStrategy.Mean, embedder.Pooling);
            float[][] vectors = embedder.Embed(texts);
            for (int i = 0; i < texts.Length; i++)
            {
                int[] ids = oracle.Encode(texts[i]);
                using var noGrad = no_grad();
                using Tensor input = tensor(ids.Select(x => (long)x).ToArray()).unsqueeze(0);
                using BertModelOutput output = encoder.Forward(input);
                float[] expected = output.LastHiddenState.mean([1]).squeeze(0).data<float>().ToArray();
                Assert.Equal(expected.Length, vectors[i].Length);
                Assert.All(expected.Zip(vectors[i]), p => Assert.Equal(p.First, p.Second, 4));
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    internal static float[] Probabilities(BertForSequenceClassification model, int[] ids)
    {
        using var noGrad = no_grad();
        using Tensor input = tensor(ids.Select(x => (long)x).ToArray()).unsqueeze(0);
        using SequenceClassifierOutput output = model.Forward(input);
        return output.Logits.softmax(-1).squeeze(0).data<float>().ToArray();
    }

    internal static float[][] TokenProbabilities(BertForTokenClassification model, int[] ids)
    {
        using var noGrad = no_grad();
        using Tensor input = tensor(ids.Select(x => (long)x).ToArray()).unsqueeze(0);
        using SequenceClassifierOutput output = model.Forward(input);
        float[] flat = output.Logits.softmax(-1).squeeze(0).data<float>().ToArray();
        int k = model.NumLabels;
        return [.. Enumerable.Range(0, ids.Length).Select(t => flat[(t * k)..((t + 1) * k)])];
    }
}
