using Bert.Sharp.Tests.TestSupport;
using Bert.Sharp.Tests.Training;
using TorchSharp;

namespace Bert.Sharp.Tests.Tasks;

/// <summary>Contrastive training of sentence embeddings (MultipleNegativesRankingLoss) through the task-generic trainer.</summary>
public sealed class SentenceEmbeddingTrainingTests
{
    // Eight topic words whose toy ids differ from each other and from the filler words' (ToyEncoder hashes words into 60 ids).
    private static readonly string[] Topics = ["battery", "charger", "case", "speaker", "antenna", "keyboard", "mouse", "monitor"];

    // Each anchor's positive shares its topic word and nothing else distinctive; the other pairs of the batch are its negatives.
    private static List<TextPair> Pairs() =>
        [.. Topics.Select(t => new TextPair($"the {t} was really quite", $"it {t} and very"))];

    private static BertForSentenceEmbedding Model()
    {
        return SeededWeights.Apply(new BertForSentenceEmbedding(new BertModel(TinyConfigs.Bert(), addPoolingLayer: false)), 21);
    }

    private static FineTuner Tuner(BertForSentenceEmbedding model, FineTuningOptions options) => new(model, new ToyEncoder(), null, options);

    [Fact]
    public void One_optimizer_step_lowers_the_in_batch_ranking_loss()
    {
        using BertForSentenceEmbedding model = Model();
        List<TextPair> pairs = Pairs();
        var options = new FineTuningOptions { MaxSteps = 1, BatchSize = pairs.Count, LearningRate = 1e-3, SaveStrategy = IntervalStrategy.No, EvaluationStrategy = IntervalStrategy.No };
        FineTuner tuner = Tuner(model, options);
        double before = tuner.Evaluate(pairs).Loss;
        Assert.True(before > 0.1, $"initial loss {before}");
        TrainingReport report = tuner.Train(pairs);
        double after = tuner.Evaluate(pairs).Loss;

        Assert.Equal(1, report.GlobalStep);
        Assert.Equal(before, report.Steps[0].Loss, 4); // the step's loss is the loss of the same batch before the update
        Assert.True(after < before, $"loss {before} -> {after}");
    }

    [Fact]
    public void Training_drives_the_loss_down_and_retrieval_up()
    {
        using BertForSentenceEmbedding model = Model();
        List<TextPair> pairs = Pairs();
        var options = new FineTuningOptions { Epochs = 30, BatchSize = pairs.Count, LearningRate = 2e-3, SaveStrategy = IntervalStrategy.No, EvaluationStrategy = IntervalStrategy.No };
        FineTuner tuner = Tuner(model, options);
        EvaluationReport before = tuner.Evaluate(pairs);
        tuner.Train(pairs);
        EvaluationReport after = tuner.Evaluate(pairs);

        // Weights and toy token ids are the same in every run (they once came from the shared global generator and a
        // per-process string hash, and a CI run started at 8 of 8 retrieved); measured here: 5 of 8 -> 8 of 8, loss 1.74 -> 4e-5.
        Assert.True(before.Accuracy <= 0.625, $"the untrained model already retrieves {before.Accuracy} of the pairs");
        Assert.True(after.Loss < before.Loss / 10, $"loss {before.Loss} -> {after.Loss}");
        Assert.True(after.Accuracy >= 0.875, $"in-batch retrieval accuracy {before.Accuracy} -> {after.Accuracy}");
    }
}
