using Bert.Sharp.Models;
using Bert.Sharp.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Adapters;

public class LoraPolicyTests
{
    [Fact]
    public void Rank_8_on_query_and_value_trains_under_2_percent_of_MiniLM_with_a_2_label_head()
    {
        using var model = BertForSequenceClassification.FromPretrained(MiniLmModel.EnsureImported(), ["negative", "positive"]);
        ParameterSummary summary = model.ApplyFreezePolicy(FreezePolicy.LoRA(rank: 8));

        // 6 layers × (query + value) × (A [8, 384] + B [384, 8]) + the head [2, 384] + [2].
        Assert.Equal((6 * 2 * ((8 * 384) + (384 * 8))) + (2 * 384) + 2, summary.Trainable);
        Assert.True(summary.TrainableFraction < 0.02, summary.ToString());
        Assert.All(
            model.named_parameters().Where(p => p.parameter.requires_grad),
            p => Assert.True(p.name.Contains(".lora_A.default.", StringComparison.Ordinal) || p.name.Contains(".lora_B.default.", StringComparison.Ordinal) || p.name.StartsWith("classifier.", StringComparison.Ordinal), p.name));
    }

    [Fact]
    public void Training_leaves_every_base_weight_bit_identical_and_gives_optimizer_state_only_to_adapters_and_head()
    {
        using BertForSequenceClassification model = ToyData.Model(dropout: 0.1);
        Dictionary<string, float[]> before = ToyData.Snapshot(model);
        (TrainingReport report, int optimizerParameters) = ToyData.TrainCountingOptimizerParameters(
            model, new FineTuningOptions { Epochs = 2, BatchSize = 8, LearningRate = 5e-3, FreezePolicy = FreezePolicy.LoRA(rank: 4, alpha: 8) }, ToyData.Sentiment(32));
        Dictionary<string, float[]> after = ToyData.Snapshot(model);

        Assert.True(report.GlobalStep > 0);
        foreach ((string name, float[] values) in before.Where(kv => !kv.Key.StartsWith("classifier.", StringComparison.Ordinal)))
        {
            Assert.Equal(values, after[name]);
        }

        string[] adapterAndHead = [.. after.Keys.Where(k => !before.ContainsKey(k) || k.StartsWith("classifier.", StringComparison.Ordinal))];
        Assert.Equal(2 * 2 * 2 + 2, adapterAndHead.Length); // 2 layers × (query, value) × (A, B) + head weight and bias
        Assert.Contains(after, kv => kv.Key.Contains(".lora_B.default.", StringComparison.Ordinal) && kv.Value.Any(v => v != 0));
        Assert.Equal(adapterAndHead.Length, optimizerParameters);
        Assert.False(report.UsedFeatureCache);
    }

    [Fact]
    public void Adapters_start_from_the_run_seed_and_B_is_zero_so_the_model_is_unchanged()
    {
        using BertForSequenceClassification a = LoraTestModels.Classifier();
        using BertForSequenceClassification b = LoraTestModels.Classifier();
        float[] plain = LoraTestModels.Logits(a);
        a.Adapters.Add("x", new LoraOptions { Rank = 4 }, seed: 3);
        b.Adapters.Add("x", new LoraOptions { Rank = 4 }, seed: 3);
        Assert.Equal(plain, LoraTestModels.Logits(a));
        Dictionary<string, float[]> snapshotB = ToyData.Snapshot(b);
        Assert.All(ToyData.Snapshot(a), kv => Assert.Equal(kv.Value, snapshotB[kv.Key]));
        Tensor first = a.named_parameters().First(p => p.name.Contains(".lora_A.x.", StringComparison.Ordinal)).parameter;
        double bound = 1 / Math.Sqrt(32);
        Assert.True(first.abs().max().item<float>() <= bound && first.abs().max().item<float>() > bound / 2);
    }

    [Fact]
    public void LoRA_works_for_token_classification_and_sentence_embeddings()
    {
        using var tagger = new BertForTokenClassification(TestSupport.TinyConfigs.Bert(), ["O", "B-X", "I-X"]);
        ParameterSummary tags = tagger.ApplyFreezePolicy(FreezePolicy.LoRA(rank: 2, targets: LoraTargets.AllLinear));
        Assert.Equal((2 * ((4 * 2 * (32 + 32)) + (2 * (32 + 64)) + (2 * (64 + 32)))) + (3 * 32) + 3, tags.Trainable);

        using var embedder = new BertForSentenceEmbedding(new BertModel(TestSupport.TinyConfigs.Bert(), addPoolingLayer: false));
        ParameterSummary vectors = embedder.ApplyFreezePolicy(FreezePolicy.LoRA(rank: 2));
        Assert.Equal(2 * 2 * 2 * (32 * 2), vectors.Trainable);
    }

    [Fact]
    public void The_fused_QKV_projection_adds_each_adapter_to_its_own_third()
    {
        using BertForSequenceClassification model = LoraTestModels.Classifier();
        LoraTestModels.AddRandomAdapter(model, "x", new LoraOptions { Rank = 4, Targets = LoraTargets.Query | LoraTargets.Key | LoraTargets.Value }, seed: 5);
        var self = model.Bert.Layers[0].named_modules().Select(m => m.module).OfType<Bert.Sharp.Modeling.BertSelfAttention>().Single();
        using var noGrad = no_grad();
        using Tensor hidden = randn(2, 5, 32);
        using Tensor fused = self.Project(hidden);
        using Tensor separate = cat([.. self.Projections.Select(p => p.call(hidden))], -1);
        Assert.True(fused.allclose(separate, rtol: 0, atol: 1e-6));
        Assert.True(self.Projections.All(p => p.Adapter is not null));
    }

    [Fact]
    public void Bad_options_are_refused_with_the_property_named()
    {
        Assert.Contains("Rank", Assert.Throws<ArgumentOutOfRangeException>(() => FreezePolicy.LoRA(rank: 0)).Message, StringComparison.Ordinal);
        Assert.Contains("target", Assert.Throws<ArgumentException>(() => FreezePolicy.LoRA(targets: LoraTargets.None)).Message, StringComparison.Ordinal);
        using BertForSequenceClassification model = LoraTestModels.Classifier();
        Assert.Contains("bert.nothing", Assert.Throws<ArgumentException>(() => model.ApplyFreezePolicy(FreezePolicy.LoRA(modulesToSave: ["bert.nothing"]))).Message, StringComparison.Ordinal);
    }
}
