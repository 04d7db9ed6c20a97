using Bert.Sharp.Tests.TestSupport;
using Bert.Sharp.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Tasks;

/// <summary>
/// One forward path for every task: each submodule runs through TorchSharp's <c>call</c> (so forward hooks fire, once per
/// forward, in training and serving alike), and every task model lists the same units over its parameters.
/// </summary>
[Collection(SerialTorchGroup.Name)]
public sealed class ModelStructureTests
{
    [Fact]
    public void Forward_hooks_on_every_layer_fire_once_per_forward_for_every_task()
    {
        BertConfig config = TinyConfigs.Bert(layers: 3);
        torch.manual_seed(1);
        using var sequence = new BertForSequenceClassification(config, ["a", "b"]);
        using var tokens = new BertForTokenClassification(config, ["O", "B-X"]);
        using var embedding = new BertForSentenceEmbedding(new BertModel(config, addPoolingLayer: false));
        (BertTaskModel Model, Action Run)[] cases =
        [
            (sequence, () => sequence.Forward(Ids(), Mask())),
            (tokens, () => tokens.Forward(Ids(), Mask())),
            (embedding, () => embedding.Forward(Ids(), Mask())),
        ];
        foreach ((BertTaskModel model, Action run) in cases)
        {
            var calls = new List<string>();
            Hook(model, calls);
            model.eval();
            using (no_grad())
            using (NewDisposeScope())
            {
                run();
                run();
            }

            string[] once = model is BertForSentenceEmbedding
                ? ["embeddings", "encoder.layer.0", "encoder.layer.1", "encoder.layer.2"]
                : model is BertForSequenceClassification
                    ? ["embeddings", "encoder.layer.0", "encoder.layer.1", "encoder.layer.2", "pooler", "classifier"]
                    : ["embeddings", "encoder.layer.0", "encoder.layer.1", "encoder.layer.2", "classifier"];
            Assert.Equal([.. once, .. once], calls);
        }
    }

    [Fact]
    public void A_hook_s_replacement_output_is_what_the_model_uses()
    {
        torch.manual_seed(2);
        using var model = new BertForTokenClassification(TinyConfigs.Bert(layers: 2), ["O", "B-X"]);
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor before = model.Forward(Ids(), Mask()).Logits;

        // Replace the last layer's output by zeros: the head then sees only its bias.
        BertLayer last = model.Bert.Layers[^1];
        var remover = last.register_forward_hook((module, hidden, context, result) => zeros_like(result));
        Tensor hooked = model.Forward(Ids(), Mask()).Logits;
        remover.remove();
        Tensor after = model.Forward(Ids(), Mask()).Logits;

        Tensor bias = model.Head.Bias.detach().expand_as(hooked);
        Assert.True(hooked.allclose(bias, rtol: 0, atol: 1e-6), "the head did not read the hooked output");
        Assert.False(before.allclose(hooked));
        Assert.True(before.equal(after).all().item<bool>(), "removing the hook restores the model");
    }

    [Fact]
    public void Layer_hooks_fire_on_every_training_step_of_the_fine_tuner()
    {
        using BertForSequenceClassification model = ToyData.Model(layers: 2);
        var calls = new List<string>();
        Hook(model, calls);
        var options = new FineTuningOptions { Epochs = 1, BatchSize = 8, SaveStrategy = IntervalStrategy.No, EvaluationStrategy = IntervalStrategy.No };
        TrainingReport report = ToyData.Tuner(model, options).Train(ToyData.Sentiment(24));
        Assert.Equal(3, report.GlobalStep);
        Assert.Equal(3, calls.Count(c => c == "encoder.layer.0"));
        Assert.Equal(3, calls.Count(c => c == "encoder.layer.1"));
        Assert.Equal(3, calls.Count(c => c == "classifier"));
    }

    [Fact]
    public void Units_list_embeddings_each_layer_pooler_and_head_and_cover_every_parameter_once()
    {
        BertConfig config = TinyConfigs.Bert(layers: 3);
        using var sequence = new BertForSequenceClassification(config, ["a", "b"]);
        AssertUnits(sequence, ["embeddings", "encoder.layer.0", "encoder.layer.1", "encoder.layer.2", "pooler", "classifier"],
            [ModelUnitKind.Embeddings, ModelUnitKind.EncoderLayer, ModelUnitKind.EncoderLayer, ModelUnitKind.EncoderLayer, ModelUnitKind.Pooler, ModelUnitKind.Head]);
        Assert.All(sequence.Units, u => Assert.True(u.IsUsed, u.Name));

        using var meanPooled = new BertForSequenceClassification(new BertModel(config), ["a", "b"], pooling: PoolingStrategy.Mean);
        Assert.False(meanPooled.Units.Single(u => u.Kind == ModelUnitKind.Pooler).IsUsed);

        using var tokens = new BertForTokenClassification(config, ["O", "B-X"]);
        AssertUnits(tokens, ["embeddings", "encoder.layer.0", "encoder.layer.1", "encoder.layer.2", "classifier"],
            [ModelUnitKind.Embeddings, ModelUnitKind.EncoderLayer, ModelUnitKind.EncoderLayer, ModelUnitKind.EncoderLayer, ModelUnitKind.Head]);

        using var embedding = new BertForSentenceEmbedding(new BertModel(config, addPoolingLayer: false));
        AssertUnits(embedding, ["embeddings", "encoder.layer.0", "encoder.layer.1", "encoder.layer.2"],
            [ModelUnitKind.Embeddings, ModelUnitKind.EncoderLayer, ModelUnitKind.EncoderLayer, ModelUnitKind.EncoderLayer]);

        using var bare = new BertModel(config);
        Assert.Equal(["embeddings", "encoder.layer.0", "encoder.layer.1", "encoder.layer.2", "pooler"], bare.Units.Select(u => u.Name));
        Assert.Equal(bare.named_parameters().Select(p => p.name).Order(StringComparer.Ordinal), bare.Units.SelectMany(u => u.NamedParameters()).Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    private static void AssertUnits(BertTaskModel model, string[] names, ModelUnitKind[] kinds)
    {
        IReadOnlyList<ModelUnit> units = model.Units;
        Assert.Equal(names, units.Select(u => u.Name));
        Assert.Equal(kinds, units.Select(u => u.Kind));
        Assert.Equal(Enumerable.Range(0, units.Count), units.Select(u => u.Depth));
        Assert.Equal(units.Where(u => u.Kind == ModelUnitKind.EncoderLayer).Select(u => u.LayerIndex), Enumerable.Range(0, 3).Select(i => (int?)i));
        Assert.All(units.Where(u => u.Kind != ModelUnitKind.EncoderLayer), u => Assert.Null(u.LayerIndex));
        Assert.All(units.Where(u => u.Kind != ModelUnitKind.Head), u => Assert.StartsWith("bert.", u.ParameterPrefix, StringComparison.Ordinal));

        // Every parameter of the model belongs to exactly one unit, under its state-dict name.
        string[] fromUnits = [.. units.SelectMany(u => u.NamedParameters()).Select(p => p.Name).Order(StringComparer.Ordinal)];
        string[] all = [.. model.named_parameters().Select(p => p.name).Order(StringComparer.Ordinal)];
        Assert.Equal(all, fromUnits);
        Assert.All(units, u => Assert.Equal(u.Module.parameters().Count(), u.NamedParameters().Count()));
    }

    // Records, in order, every unit's module as it finishes a forward.
    private static void Hook(BertTaskModel model, List<string> calls)
    {
        foreach (ModelUnit unit in model.Units)
        {
            string name = unit.Name;
            switch (unit.Module)
            {
                case BertEmbeddings e: e.register_forward_hook((Action<nn.Module>)(_ => calls.Add(name))); break;
                case BertLayer l: l.register_forward_hook((Action<nn.Module>)(_ => calls.Add(name))); break;
                case BertPooler p: p.register_forward_hook((Action<nn.Module>)(_ => calls.Add(name))); break;
                case ClassificationHead h: h.register_forward_hook((Action<nn.Module>)(_ => calls.Add(name))); break;
                default: throw new InvalidOperationException($"unit {name} is a {unit.Module.GetType().Name}");
            }
        }
    }

    private static Tensor Ids() => tensor(new long[,] { { 1, 5, 6, 7, 8, 2 }, { 1, 9, 10, 2, 0, 0 } });

    private static Tensor Mask() => tensor(new long[,] { { 1, 1, 1, 1, 1, 1 }, { 1, 1, 1, 1, 0, 0 } });
}
