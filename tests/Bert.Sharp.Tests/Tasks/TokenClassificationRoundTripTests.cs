using Bert.Sharp.Tests.TestSupport;
using Bert.Sharp.Tests.Training;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Tasks;

/// <summary>Token classification through the task-generic trainer: it learns, and what it learned survives save and reload exactly.</summary>
public sealed class TokenClassificationRoundTripTests : IDisposable
{
    private readonly string directory = TestTemp.NewDirectory("token-roundtrip");

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void Trained_tagger_scores_entities_and_reloads_with_identical_logits()
    {
        var options = new FineTuningOptions
        {
            Epochs = 12,
            BatchSize = 8,
            LearningRate = 5e-3,
            EvaluationStrategy = IntervalStrategy.No,
            SaveStrategy = IntervalStrategy.No,
        };
        List<TaggedSentence> train = ToyTagging.Sentences(64, seed: 1);
        List<TaggedSentence> test = ToyTagging.Sentences(32, seed: 2);
        using BertForTokenClassification model = ToyTagging.Model();
        FineTuner tuner = ToyTagging.Tuner(model, options);
        EvaluationReport before = tuner.Evaluate(test);
        TrainingReport report = tuner.Train(train);
        EvaluationReport after = tuner.Evaluate(test);

        Assert.True(report.EpochLosses[^1] < report.EpochLosses[0] / 5, $"epoch losses {string.Join(", ", report.EpochLosses)}");
        Assert.True(before.EntityF1 < 0.5, $"untrained entity F1 {before.EntityF1}");
        Assert.True(after.EntityF1 > 0.95, $"trained entity F1 {after.EntityF1}");
        Assert.Equal(["BRAND", "LOC", "ORG"], after.PerClass.Select(c => c.Label));
        Assert.Equal(test.Sum(s => s.Tags.Count(t => t.StartsWith("B-", StringComparison.Ordinal))), after.PerClass.Sum(c => c.Support));

        model.SavePretrained(directory);
        using BertForTokenClassification reloaded = BertForTokenClassification.FromPretrained(directory);
        Assert.Equal(ToyTagging.Tags, reloaded.Labels);
        Assert.Empty(reloaded.LoadReport!.MissingKeys);

        model.eval();
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            (Tensor ids, Tensor mask) = ToyTagging.Batch(test);
            Tensor original = model.Forward(ids, mask).Logits;
            Tensor restored = reloaded.Forward(ids, mask).Logits;
            Assert.Equal(new long[] { test.Count, ids.shape[1], ToyTagging.Tags.Length }, restored.shape);
            Assert.True(original.equal(restored).all().item<bool>(), $"logits differ after reload: max |diff| {(original - restored).abs().max().item<float>()}");
        }

        EvaluationReport again = ToyTagging.Tuner(reloaded, options).Evaluate(test);
        Assert.Equal(after.EntityF1, again.EntityF1);
        Assert.Equal(after.Loss, again.Loss);
    }
}
