using Bert.Sharp.Modeling;
using Bert.Sharp.Tests.TestSupport;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Modeling;

/// <summary>
/// The serving classes store their model's linear weights column-major (<see cref="LinearWeightLayout"/>): the same values,
/// read by the CPU product as a plain [in, out] matrix. What must not change: predictions (against the row-major model the
/// trainer uses), the saved files, and training, which gets contiguous weights back.
/// </summary>
public sealed class LinearWeightLayoutTests : IDisposable
{
    private static readonly string[] Texts = ["the old river park", "we saw a red fox near the park today and walked", "a", ""];
    private readonly string directory = TestTemp.NewDirectory("weight-layout");

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void Text_and_token_classifiers_hold_column_major_weights_and_predict_as_the_row_major_model()
    {
        BertTokenizer tokenizer = Tokenizer();
        string sequenceFolder = Path.Combine(directory, "sequence"), tokenFolder = Path.Combine(directory, "token");
        using (var sequence = SeededWeights.Apply(new BertForSequenceClassification(new BertModel(TinyConfigs.Bert(vocab: 40)), ["neg", "pos", "mid"]), 3))
        using (var token = SeededWeights.Apply(new BertForTokenClassification(new BertModel(TinyConfigs.Bert(vocab: 40), addPoolingLayer: false), ["O", "B-X", "I-X"]), 4))
        {
            sequence.SavePretrained(sequenceFolder, tokenizer);
            token.SavePretrained(tokenFolder, tokenizer);
        }

        using var rowMajor = BertForSequenceClassification.FromPretrained(sequenceFolder);
        using TextClassifier classifier = TextClassifier.FromPretrained(sequenceFolder);
        Assert.All(Linears(classifier.Model), w => Assert.True(w.stride(0) == 1 && !w.is_contiguous(), "a linear weight of the served model is not column-major"));
        AssertProjectionsShareOneStorage(classifier.Model);
        Assert.All(Linears(rowMajor), w => Assert.True(w.is_contiguous()));
        IReadOnlyList<Prediction> batch = classifier.PredictBatch(Texts);
        for (int i = 0; i < Texts.Length; i++)
        {
            float[] expected = Probabilities(rowMajor, tokenizer, Texts[i]);
            Prediction single = classifier.Predict(Texts[i]);
            for (int c = 0; c < expected.Length; c++)
            {
                Assert.Equal(expected[c], single.Probabilities[rowMajor.Labels[c]], 5);
                Assert.Equal(expected[c], batch[i].Probabilities[rowMajor.Labels[c]], 5);
            }
        }

        using var tokenRowMajor = BertForTokenClassification.FromPretrained(tokenFolder);
        using TokenClassifier tagger = TokenClassifier.FromPretrained(tokenFolder);
        Assert.All(Linears(tagger.Model), w => Assert.True(w.stride(0) == 1 && !w.is_contiguous()));
        AssertProjectionsShareOneStorage(tagger.Model);
        using (var noGrad = no_grad())
        using (var scope = NewDisposeScope())
        {
            tokenRowMajor.eval();
            (Tensor ids, Tensor mask) = Batch(tokenizer, Texts[1]);
            Tensor expected = tokenRowMajor.Logits(ids, mask, null);
            Tensor served = tagger.Model.Logits(ids, mask, null);
            Assert.True(served.allclose(expected, rtol: 1e-5, atol: 1e-5), $"token logits differ by {(served - expected).abs().max().item<float>()}");
        }
    }

    [Fact]
    public void Sentence_embedder_embeds_as_the_row_major_model()
    {
        BertTokenizer tokenizer = Tokenizer();
        string folder = Path.Combine(directory, "embedding");
        using (var model = SeededWeights.Apply(new BertForSentenceEmbedding(new BertModel(TinyConfigs.Bert(vocab: 40), addPoolingLayer: false)), 5))
        {
            model.SavePretrained(folder, tokenizer);
        }

        using SentenceEmbedder embedder = SentenceEmbedder.FromPretrained(folder);
        using var rowMajor = BertForSentenceEmbedding.FromPretrained(folder);
        rowMajor.eval();
        foreach (string text in Texts)
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            (Tensor ids, Tensor mask) = Batch(tokenizer, text);
            float[] expected = rowMajor.Forward(ids, mask)[0].data<float>().ToArray();
            float[] served = embedder.Embed(text);
            Assert.Equal(expected.Length, served.Length);
            Assert.All(expected.Zip(served), p => Assert.Equal(p.First, p.Second, 5));
        }
    }

    [Fact]
    public void Relayout_keeps_the_values_and_the_saved_bytes_and_training_gets_contiguous_weights_back()
    {
        BertTokenizer tokenizer = Tokenizer();
        using var model = SeededWeights.Apply(new BertForSequenceClassification(new BertModel(TinyConfigs.Bert(vocab: 40)), ["neg", "pos"]), 6);
        string before = Path.Combine(directory, "before"), after = Path.Combine(directory, "after");
        model.SavePretrained(before, tokenizer);
        float[][] values = [.. Linears(model).Select(w => w.contiguous().data<float>().ToArray())];

        Assert.Equal(Linears(model).Count, LinearWeightLayout.UseColumnMajor(model));
        Assert.Equal(0, LinearWeightLayout.UseColumnMajor(model)); // already there
        AssertProjectionsShareOneStorage(model);
        Assert.Equal(values, Linears(model).Select(w => w.contiguous().data<float>().ToArray()));
        model.SavePretrained(after, tokenizer);
        Assert.Equal(File.ReadAllBytes(Path.Combine(before, "model.safetensors")), File.ReadAllBytes(Path.Combine(after, "model.safetensors")));

        // A served model handed to the trainer: the optimizer is built over contiguous weights (the fused AdamW step needs them).
        var tuner = new FineTuner(model, tokenizer, new FineTuningOptions { Epochs = 1, BatchSize = 2, SaveStrategy = IntervalStrategy.No, EvaluationStrategy = IntervalStrategy.No });
        tuner.Train([new LabeledExample("the red fox", "pos"), new LabeledExample("an old park", "neg")]);
        Assert.All(Linears(model), w => Assert.True(w.is_contiguous()));
    }

    [Fact]
    public void Changes_to_a_served_models_weights_reach_its_predictions_whether_made_in_place_or_by_a_new_storage()
    {
        BertTokenizer tokenizer = Tokenizer();
        string folder = Path.Combine(directory, "changed");
        using (var model = SeededWeights.Apply(new BertForSequenceClassification(new BertModel(TinyConfigs.Bert(vocab: 40)), ["neg", "pos", "mid"]), 7))
        {
            model.SavePretrained(folder, tokenizer);
        }

        using var rowMajor = BertForSequenceClassification.FromPretrained(folder);
        using TextClassifier classifier = TextClassifier.FromPretrained(folder);
        BertSelfAttention served = classifier.Model.modules().OfType<BertSelfAttention>().First();
        BertSelfAttention reference = rowMajor.modules().OfType<BertSelfAttention>().First();

        // In place (as an optimizer step or a LoRA merge writes): the shared storage is the weights' storage.
        using (var noGrad = no_grad())
        {
            served.Projections[1].Weight.mul_(3f);
            reference.Projections[1].Weight.mul_(3f);
        }

        AssertSamePredictions(classifier, rowMajor, tokenizer);

        // A storage laid out exactly like the shared one (same offset and strides), but another storage: only its address tells.
        using (var noGrad = no_grad())
        {
            long width = served.Projections[2].Weight.shape[0];
            Tensor other = cat([served.Projections[0].Weight.t(), served.Projections[1].Weight.t(), served.Projections[2].Weight.t().mul(0.5f)], 1);
            served.Projections[2].Weight.set_(other.narrow(1, 2 * width, width).t());
            reference.Projections[2].Weight.mul_(0.5f);
        }

        AssertSamePredictions(classifier, rowMajor, tokenizer);

        // A storage of its own for one weight (set_ of another tensor): no longer a slice, so the weights are concatenated.
        using (var noGrad = no_grad())
        {
            served.Projections[2].Weight.set_(served.Projections[2].Weight.contiguous().mul(-2f));
            reference.Projections[2].Weight.mul_(-2f);
        }

        AssertSamePredictions(classifier, rowMajor, tokenizer);
    }

    private static void AssertSamePredictions(TextClassifier classifier, BertForSequenceClassification rowMajor, BertTokenizer tokenizer)
    {
        foreach (string text in Texts)
        {
            float[] expected = Probabilities(rowMajor, tokenizer, text);
            Prediction served = classifier.Predict(text);
            for (int c = 0; c < expected.Length; c++)
            {
                Assert.Equal(expected[c], served.Probabilities[rowMajor.Labels[c]], 5);
            }
        }
    }

    private static void AssertProjectionsShareOneStorage(nn.Module model)
    {
        foreach (BertSelfAttention attention in model.modules().OfType<BertSelfAttention>())
        {
            IntPtr[] storages = [.. attention.Projections.Select(p =>
            {
                using Storage<float> storage = p.Weight.storage<float>();
                return storage.data_ptr();
            })];
            Assert.All(storages, s => Assert.Equal(storages[0], s));
            Assert.Equal([0L, attention.Projections[0].OutFeatures, 2L * attention.Projections[0].OutFeatures], attention.Projections.Select(p => p.Weight.storage_offset()));
        }
    }

    private static List<Parameter> Linears(nn.Module model) => [.. model.modules().OfType<BertLinear>().Select(l => l.Weight)];

    private static float[] Probabilities(BertForSequenceClassification model, BertTokenizer tokenizer, string text)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        model.eval();
        (Tensor ids, Tensor mask) = Batch(tokenizer, text);
        return model.Logits(ids, mask, null).softmax(-1)[0].data<float>().ToArray();
    }

    private static (Tensor Ids, Tensor Mask) Batch(BertTokenizer tokenizer, string text)
    {
        long[] ids = [.. tokenizer.Encode(text).Select(i => (long)i)];
        return (tensor(ids, [1, ids.Length]), ones(1, ids.Length, ScalarType.Int64));
    }

    private BertTokenizer Tokenizer()
    {
        string vocab = Path.Combine(directory, "vocab.txt");
        if (!File.Exists(vocab))
        {
            File.WriteAllLines(vocab, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "old", "river", "park", "we", "saw", "a", "red", "fox", "near", "today", "and", "walked", "an", "blue", "cat"]);
        }

        return BertTokenizer.FromVocabulary(vocab);
    }
}
