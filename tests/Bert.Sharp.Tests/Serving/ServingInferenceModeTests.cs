using Bert.Sharp.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Serving;

/// <summary>
/// The serving classes run their forwards under <c>torch.inference_mode()</c> (cheaper per operator than <c>no_grad</c>).
/// An inference tensor left inside the model — a cache, a moved storage — would make any later training fail ("inference
/// tensors cannot be saved for backward") or change it; <see cref="TextClassifier.Model"/> and <see cref="TokenClassifier.Model"/>
/// are public, so a served model can be trained further. This checks that it trains exactly as a model that was never served.
/// </summary>
public sealed class ServingInferenceModeTests
{
    private static readonly string[] Texts = ["a great phone", "the screen is awful and the battery is poor", "fine"];

    [Fact]
    public void A_model_served_by_a_text_classifier_then_trained_gets_the_gradients_of_one_never_served()
    {
        string folder = TinyClassifierFolder.Create();
        using var classifier = TextClassifier.FromPretrained(folder);
        IReadOnlyList<Prediction> served = classifier.PredictBatch(Texts);
        _ = classifier.Predict(Texts[0]);
        // Loaded the same way (the same serving layout of the weights), never asked for a prediction.
        using var neverServed = TextClassifier.FromPretrained(folder);

        Dictionary<string, float[]> afterServing = OneStepGradients(classifier.Model);
        Dictionary<string, float[]> reference = OneStepGradients(neverServed.Model);

        Assert.Equal(reference.Keys.Order(StringComparer.Ordinal), afterServing.Keys.Order(StringComparer.Ordinal));
        Assert.All(reference, p => Assert.Equal(p.Value, afterServing[p.Key]));
        Assert.Contains(reference.Values, g => g.Any(v => v != 0f));

        // And it still serves, with the same scores as before (no optimizer step was taken).
        classifier.Model.eval();
        Assert.Equal(served.Select(p => p.Score), classifier.PredictBatch(Texts).Select(p => p.Score));

        // inference_mode runs the kernels no_grad runs: one text's probabilities to the bit.
        float[] expected;
        using (no_grad())
        using (NewDisposeScope())
        {
            long[] ids = [.. BertTokenizer.FromVocabulary(TestAssets.UncasedVocabPath).Encode(Texts[1]).Select(id => (long)id)];
            expected = classifier.Model.Forward(tensor(ids).unsqueeze(0)).Logits.softmax(-1).data<float>().ToArray();
        }

        Prediction one = classifier.Predict(Texts[1]);
        Assert.Equal(expected, classifier.Model.Labels.Select(label => one.Probabilities[label]));
    }

    [Fact]
    public void A_model_served_by_a_token_classifier_then_trained_gets_the_gradients_of_one_never_served()
    {
        BertTokenizer tokenizer = BertTokenizer.FromVocabulary(TestAssets.UncasedVocabPath);
        string folder = TestTemp.NewDirectory("served-tagger");
        try
        {
            using (var model = SeededWeights.Apply(new BertForTokenClassification(new BertModel(TinyConfigs.Bert(vocab: tokenizer.VocabularySize, maxPositions: 128)), ["O", "B-ITEM", "I-ITEM"]), 3))
            {
                model.SavePretrained(folder, tokenizer);
            }

            using var tagger = TokenClassifier.FromPretrained(folder);
            _ = tagger.PredictBatch(Texts);
            using var neverServed = TokenClassifier.FromPretrained(folder);

            static Tensor Loss(BertForTokenClassification m) => m.Forward(Ids(), Mask(), labels: tensor(new long[,] { { -100, 1, 2, -100, -100, -100 }, { -100, 0, 1, 0, 0, -100 } })).Loss!;
            Dictionary<string, float[]> afterServing = OneStepGradients(tagger.Model, Loss);
            Dictionary<string, float[]> reference = OneStepGradients(neverServed.Model, Loss);
            Assert.All(reference, p => Assert.Equal(p.Value, afterServing[p.Key]));
            Assert.Contains(reference.Values, g => g.Any(v => v != 0f));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static Tensor Ids() => tensor(new long[,] { { 101, 2307, 3042, 102, 0, 0 }, { 101, 1996, 3898, 2003, 9643, 102 } });

    private static Tensor Mask() => tensor(new long[,] { { 1, 1, 1, 1, 0, 0 }, { 1, 1, 1, 1, 1, 1 } });

    private static Dictionary<string, float[]> OneStepGradients(BertForSequenceClassification model) =>
        OneStepGradients(model, m => m.Forward(Ids(), Mask(), labels: tensor(new long[] { 1, 0 })).Loss!);

    // Loss gradients of every trainable parameter after one forward and backward of a padded batch with labels, in
    // evaluation mode (no dropout), so two models with the same weights must agree to the bit.
    private static Dictionary<string, float[]> OneStepGradients<TModel>(TModel model, Func<TModel, Tensor> loss)
        where TModel : TorchSharp.torch.nn.Module
    {
        model.eval();
        model.zero_grad();
        using (NewDisposeScope())
        {
            loss(model).backward();
        }

        return model.named_parameters()
            .Where(p => p.parameter.grad is not null)
            .ToDictionary(p => p.name, p => p.parameter.grad!.data<float>().ToArray(), StringComparer.Ordinal);
    }
}
