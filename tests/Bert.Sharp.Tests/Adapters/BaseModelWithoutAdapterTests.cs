using Bert.Sharp.Tests.TestSupport;
using Bert.Sharp.Tests.Training;
using Bert.Sharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Adapters;

/// <summary>
/// What "no adapter" computes on a model that has adapters: the base model, head included (PEFT's <c>original_module</c>),
/// whatever the adapters' heads learned — and a refusal when that base head was never trained.
/// </summary>
public class BaseModelWithoutAdapterTests
{
    private static readonly string[] Texts = ["good phone", "awful screen and poor battery"];

    [Fact]
    public void Without_an_adapter_the_model_computes_what_its_base_did_whatever_the_adapters_heads_learned()
    {
        using BertForSequenceClassification reference = LoraTestModels.Classifier();
        float[] baseLogits = LoraTestModels.Logits(reference);
        using var baseClassifier = new TextClassifier(reference, new ToyEncoder(), new TextClassifierOptions());
        IReadOnlyList<Prediction> basePredictions = baseClassifier.PredictBatch(Texts);

        BertForSequenceClassification model = LoraTestModels.Classifier();
        // Each adapter brings its own random head (as training would); the second overwrites the model's head parameters.
        LoraTestModels.AddRandomAdapter(model, "a", new LoraOptions { Rank = 2 }, seed: 1);
        LoraTestModels.AddRandomAdapter(model, "b", new LoraOptions { Rank = 3 }, seed: 2);
        float[] withB = LoraTestModels.Logits(model);
        Assert.NotEqual(baseLogits, withB);

        model.Adapters.Use(null);
        LoraTestModels.AssertClose(baseLogits, LoraTestModels.Logits(model), 0);

        using var classifier = new TextClassifier(model, new ToyEncoder(), new TextClassifierOptions());
        model.Adapters.Use("b");
        Assert.Equal(basePredictions.Select(p => p.Score), classifier.PredictBatch(Texts, adapter: null).Select(p => p.Score));
        Assert.NotEqual(basePredictions.Select(p => p.Score), classifier.PredictBatch(Texts, "a").Select(p => p.Score));

        // Removing every adapter leaves the base model, head included.
        model.Adapters.Delete("a");
        model.Adapters.Delete("b");
        Assert.Empty(model.Adapters.Names);
        LoraTestModels.AssertClose(baseLogits, LoraTestModels.Logits(model), 0);
        Assert.Equal(basePredictions.Select(p => p.Score), classifier.PredictBatch(Texts).Select(p => p.Score));
    }

    [Fact]
    public void A_base_whose_head_was_newly_initialised_refuses_predictions_without_an_adapter()
    {
        string baseDir = LoraTestModels.TempFolder("encoder-only");
        using (var encoder = new BertModel(TinyConfigs.Bert()))
        {
            encoder.SavePretrained(baseDir);
        }

        using BertForSequenceClassification model = BertForSequenceClassification.FromPretrained(baseDir, LoraTestModels.Labels);
        Assert.Contains("classifier.weight", model.LoadReport!.MissingKeys);
        LoraTestModels.AddRandomAdapter(model, "sentiment", new LoraOptions { Rank = 2 }, seed: 3);
        using var classifier = new TextClassifier(model, new ToyEncoder(), new TextClassifierOptions());

        Assert.Equal(2, classifier.PredictBatch(Texts, "sentiment").Count);
        var error = Assert.Throws<InvalidOperationException>(() => classifier.PredictBatch(Texts, adapter: null));
        Assert.Contains("classifier.weight", error.Message, StringComparison.Ordinal);
        Assert.Contains("sentiment", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => classifier.Predict(Texts[0], null, adapter: null));
    }

    [Fact]
    public void A_base_with_a_trained_head_serves_it_beside_a_loaded_adapter()
    {
        string baseDir = LoraTestModels.TempFolder("trained-base");
        float[] baseLogits;
        using (BertForSequenceClassification trained = LoraTestModels.Classifier(seed: 11))
        {
            baseLogits = LoraTestModels.Logits(trained);
            trained.SavePretrained(baseDir);
        }

        string adapterDir = LoraTestModels.TempFolder("topic-adapter");
        using (BertForSequenceClassification donor = BertForSequenceClassification.FromPretrained(baseDir))
        {
            LoraTestModels.AddRandomAdapter(donor, "default", new LoraOptions { Rank = 4 }, seed: 6);
            donor.Adapters.Save(adapterDir);
        }

        using BertForSequenceClassification model = BertForSequenceClassification.FromPretrained(baseDir);
        model.eval();
        Assert.Empty(model.LoadReport!.MissingKeys);
        model.Adapters.Load(adapterDir, "topic");
        Assert.NotEqual(baseLogits, LoraTestModels.Logits(model));
        using var classifier = new TextClassifier(model, new ToyEncoder(), new TextClassifierOptions());
        IReadOnlyList<Prediction> viaBase = classifier.PredictBatch(Texts, adapter: null);
        model.Adapters.Use(null);
        LoraTestModels.AssertClose(baseLogits, LoraTestModels.Logits(model), 0);
        Assert.NotEqual(viaBase.Select(p => p.Score), classifier.PredictBatch(Texts, "topic").Select(p => p.Score));
    }

    [Fact]
    public void Every_head_follows_the_model_to_another_dtype()
    {
        // The adapters' head copies and the base head are plain tensors: model.to(...) must convert them with the parameters.
        using BertForSequenceClassification model = LoraTestModels.Classifier();
        LoraTestModels.AddRandomAdapter(model, "a", new LoraOptions { Rank = 2 }, seed: 1);
        LoraTestModels.AddRandomAdapter(model, "b", new LoraOptions { Rank = 3 }, seed: 2);
        string?[] choices = [null, "a", "b"];
        var before = choices.Select(choice => LogitsWith(model, choice)).ToList();

        model.to(ScalarType.Float64);
        var after = choices.Select(choice => LogitsWith(model, choice)).ToList();

        for (int i = 0; i < choices.Length; i++)
        {
            LoraTestModels.AssertClose(before[i], after[i], 1e-5);
        }

        Assert.NotEqual(after[0], after[1]);
        Assert.NotEqual(after[1], after[2]);
    }

    private static float[] LogitsWith(BertForSequenceClassification model, string? adapter)
    {
        model.Adapters.Use(adapter);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        (torch.Tensor ids, torch.Tensor mask) = LoraTestModels.Batch();
        return model.Forward(ids, mask).Logits.to(torch.ScalarType.Float32).data<float>().ToArray();
    }
}
