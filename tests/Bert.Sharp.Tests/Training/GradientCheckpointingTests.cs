using Bert.Sharp.Inference;
using Bert.Sharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Training;

[Collection(SerialTorchGroup.Name)]
public class GradientCheckpointingTests
{
    private static readonly FineTuningOptions Steps = new()
    {
        MaxSteps = 5,
        BatchSize = 8,
        LearningRate = 1e-3,
        SaveStrategy = IntervalStrategy.No,
        EvaluationStrategy = IntervalStrategy.No,
    };

    public static TheoryData<string> Policies => ["full", "frozen-embeddings", "top1"];

    [Theory]
    [MemberData(nameof(Policies))]
    public void Checkpointed_training_ends_with_the_same_weights_as_plain_training(string name)
    {
        FreezePolicy policy = name switch
        {
            "full" => FreezePolicy.FullFineTuning(),
            "frozen-embeddings" => FreezePolicy.FreezeEmbeddings(),
            _ => FreezePolicy.FineTuneTopLayers(1),
        };

        // Dropout on (hidden and attention), so the recomputation must replay the run generator's masks exactly.
        using var plainModel = ToyData.Model(layers: 3, dropout: 0.1);
        using var checkpointedModel = ToyData.Model(layers: 3, dropout: 0.1);
        var train = ToyData.Sentiment(40);
        TrainingReport plain = ToyData.Tuner(plainModel, Steps with { FreezePolicy = policy }).Train(train);
        TrainingReport checkpointed = ToyData.Tuner(checkpointedModel, Steps with { FreezePolicy = policy, GradientCheckpointing = true }).Train(train);

        Assert.True(checkpointed.GradientCheckpointing);
        Assert.False(checkpointedModel.Bert.GradientCheckpointing); // the run restores the model's setting
        var a = ToyData.Snapshot(plainModel);
        var b = ToyData.Snapshot(checkpointedModel);
        var initial = ToyData.Snapshot(ToyData.Model(layers: 3, dropout: 0.1));
        Assert.Contains(a.Keys, k => !a[k].AsSpan().SequenceEqual(initial[k]));
        foreach (string key in a.Keys)
        {
            double diff = a[key].Zip(b[key]).Max(p => Math.Abs(p.First - p.Second));
            Assert.True(diff <= 1e-6, $"{name}: '{key}' differs by {diff:E2}");
        }

        Assert.Equal(plain.Steps.Select(s => s.Loss), checkpointed.Steps.Select(s => s.Loss));
    }

    [Fact]
    public void Checkpointed_gradients_equal_plain_gradients_under_bfloat16_autocast_with_dropout()
    {
        using var model = ToyData.Model(layers: 2, dropout: 0.1);
        model.train();
        using var scope = NewDisposeScope();
        var encoder = new ToyEncoder();
        var examples = ToyData.Sentiment(6, seed: 4);
        var encoded = encoder.Encode([.. examples.Select(e => e.Text)], null, 64);
        (Tensor ids, Tensor mask, _) = TensorBatch.Collate(encoded, [.. Enumerable.Range(0, encoded.Count)], 0, CPU);
        Tensor labels = tensor(examples.Select(e => e.Label == "positive" ? 1L : 0L).ToArray());
        var precision = Bert.Sharp.Runtime.MixedPrecision.Resolve(TrainingPrecision.BFloat16, CPU, "test");

        Dictionary<string, Tensor> Gradients(bool checkpointing)
        {
            model.Bert.GradientCheckpointing = checkpointing;
            using var generator = new Generator(11);
            using var randomness = Bert.Sharp.Modeling.DropoutRandomness.Use(generator);
            model.zero_grad();
            Tensor loss;
            using (precision.Enter())
            {
                loss = model.Forward(ids, mask, null, labels).Loss!;
            }

            loss.backward();
            var grads = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
            model.zero_grad();
            return grads;
        }

        var plain = Gradients(false);
        var checkpointed = Gradients(true);
        model.Bert.GradientCheckpointing = false;
        foreach ((string name, Tensor g) in plain)
        {
            Assert.True((g - checkpointed[name]).abs().max().item<float>() == 0, $"'{name}' gradient differs");
        }
    }
}
