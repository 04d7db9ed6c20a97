using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Training;

public class FineTunerTests
{
    private static readonly FineTuningOptions Fast = new()
    {
        Epochs = 6,
        BatchSize = 8,
        LearningRate = 2e-3,
        SaveStrategy = IntervalStrategy.No,
        EvaluationStrategy = IntervalStrategy.No,
    };

    [Fact]
    public void Full_fine_tuning_drives_the_loss_to_near_zero_on_a_separable_set()
    {
        using var model = ToyData.Model();
        var train = ToyData.Sentiment(64);
        TrainingReport report = ToyData.Tuner(model, Fast with { Epochs = 15, LearningRate = 5e-3 }).Train(train);
        Assert.Equal(15 * 8, report.GlobalStep);
        Assert.True(report.EpochLosses[0] > 0.3, $"first epoch loss {report.EpochLosses[0]}");
        Assert.True(report.EpochLosses[^1] < 0.05, $"last epoch loss {report.EpochLosses[^1]}");
        EvaluationReport seen = ToyData.Tuner(model, Fast).Evaluate(train);
        Assert.Equal(1.0, seen.Accuracy);
        Assert.Equal(1.0, seen.MacroF1);
        // Held out: 39 of 40 (one negative read as positive) with this seed; 64 toy sentences do not pin every word order.
        EvaluationReport eval = ToyData.Tuner(model, Fast).Evaluate(ToyData.Sentiment(40, seed: 99));
        Assert.True(eval.Accuracy >= 0.95, $"held-out accuracy {eval.Accuracy}");
        Assert.Equal(20, eval.ConfusionMatrix![0][0] + eval.ConfusionMatrix[0][1]);
    }

    public static TheoryData<string> Policies => ["transfer", "top1", "embeddings", "custom"];

    [Theory]
    [MemberData(nameof(Policies))]
    public void Frozen_parameters_are_bit_identical_after_training_and_hold_no_optimizer_state(string name)
    {
        FreezePolicy policy = name switch
        {
            "transfer" => FreezePolicy.TransferLearning(),
            "top1" => FreezePolicy.FineTuneTopLayers(1),
            "embeddings" => FreezePolicy.FreezeEmbeddings(),
            _ => FreezePolicy.Custom(n => n.Contains("LayerNorm", StringComparison.Ordinal) || n.StartsWith("classifier", StringComparison.Ordinal)),
        };
        using var model = ToyData.Model(dropout: 0.1);
        var before = ToyData.Snapshot(model);
        (TrainingReport report, int optimizerParameters) = ToyData.TrainCountingOptimizerParameters(model, Fast with { Epochs = 2, FreezePolicy = policy }, ToyData.Sentiment(32));
        var after = ToyData.Snapshot(model);
        int changed = 0;
        foreach ((string key, float[] values) in before)
        {
            bool trainable = ToyData.Trains(model, policy, key);
            bool same = values.AsSpan().SequenceEqual(after[key]);
            if (!trainable)
            {
                Assert.True(same, $"{name}: frozen '{key}' changed");
            }
            else if (!same)
            {
                changed++;
            }
        }

        Assert.True(changed > 0, "nothing trainable changed");
        Assert.Equal(report.Parameters.TrainableTensors, optimizerParameters);
        Assert.Equal(before.Keys.Count(k => ToyData.Trains(model, policy, k)), optimizerParameters);
    }

    [Fact]
    public void Gradual_unfreezing_changes_the_trainable_set_on_schedule()
    {
        using var model = ToyData.Model();
        FreezePolicy policy = FreezePolicy.GradualUnfreezing(everyEpochs: 1);
        Assert.Equal(2, CountTrainableTensors(model, policy, 0)); // classifier weight + bias
        int topLayer = 16 + 2 + 2;                                  // + encoder.layer.1 and the pooler
        Assert.Equal(topLayer, CountTrainableTensors(model, policy, 1));
        Assert.Equal(topLayer + 16, CountTrainableTensors(model, policy, 2));
        Assert.Equal(model.named_parameters().Count(), CountTrainableTensors(model, policy, 3));

        var before = ToyData.Snapshot(model);
        (TrainingReport report, int optimizerParameters) = ToyData.TrainCountingOptimizerParameters(model, Fast with { Epochs = 2, FreezePolicy = policy }, ToyData.Sentiment(32));
        var after = ToyData.Snapshot(model);
        Assert.True(report.UsedFeatureCache, "epoch 1 (head only) should train on cached features");
        Assert.True(Same(before, after, "bert.encoder.layer.0."), "layer 0 is still frozen after 2 epochs");
        Assert.True(Same(before, after, "bert.embeddings."), "embeddings are still frozen after 2 epochs");
        Assert.False(Same(before, after, "bert.encoder.layer.1."), "layer 1 was unfrozen in epoch 2");
        Assert.Equal(topLayer, optimizerParameters);
    }

    [Fact]
    public void Transfer_learning_with_cached_features_matches_the_uncached_run()
    {
        var options = Fast with { Epochs = 3, FreezePolicy = FreezePolicy.TransferLearning(), LearningRate = 1e-2 };
        var train = ToyData.Sentiment(48);
        using var cachedModel = ToyData.Model();
        using var plainModel = ToyData.Model();
        // The same start for both, whatever tests running in parallel drew from torch's global generator meanwhile.
        using (TorchSharp.torch.no_grad())
        {
            var start = cachedModel.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach ((string name, TorchSharp.Modules.Parameter p) in plainModel.named_parameters())
            {
                p.copy_(start[name]);
            }
        }

        TrainingReport cached = ToyData.Tuner(cachedModel, options).Train(train);
        TrainingReport plain = ToyData.Tuner(plainModel, options with { CacheFrozenFeatures = false }).Train(train);
        Assert.True(cached.UsedFeatureCache);
        Assert.False(plain.UsedFeatureCache);
        for (int i = 0; i < cached.Steps.Count; i++)
        {
            Assert.Equal(plain.Steps[i].Loss, cached.Steps[i].Loss, 4);
        }
    }

    [Fact]
    public void Evaluation_early_stopping_and_best_model_work_together()
    {
        string output = TestSupport.TestTemp.NewDirectory("ft-best");
        using var model = ToyData.Model();
        var options = Fast with
        {
            Epochs = 20,
            LearningRate = 1e-9,
            EvaluationStrategy = IntervalStrategy.Epoch,
            EarlyStoppingPatience = 2,
            EarlyStoppingThreshold = 1e-3,
            OutputDirectory = output,
            SaveStrategy = IntervalStrategy.Epoch,
            SaveTotalLimit = 1,
        };
        TrainingReport report = ToyData.Tuner(model, options).Train(ToyData.Sentiment(16), ToyData.Sentiment(8, seed: 5));
        Assert.True(report.StoppedEarly);
        Assert.Equal(3, report.Evaluations.Count);
        Assert.Equal(1, report.Best!.Step / 2);
        Assert.True(File.Exists(Path.Combine(output, "best", "model.safetensors")));
        Assert.Single(Directory.GetDirectories(output, "checkpoint-*"));
        Assert.Empty(Directory.GetDirectories(output, ".*"));
    }

    [Fact]
    public void TensorBoard_event_file_is_written()
    {
        string board = TestSupport.TestTemp.NewDirectory("ft-tb");
        using var model = ToyData.Model();
        ToyData.Tuner(model, Fast with { Epochs = 1, LoggingSteps = 1, TensorBoardDirectory = board, EvaluationStrategy = IntervalStrategy.Epoch })
            .Train(ToyData.Sentiment(16), ToyData.Sentiment(8, seed: 3));
        string[] files = Directory.GetFiles(board, "events.out.tfevents.*");
        Assert.Single(files);
        Assert.True(new FileInfo(files[0]).Length > 100);
    }

    [Fact]
    public void Non_finite_loss_stops_with_a_clear_error()
    {
        using var model = new BertForSequenceClassification(TestSupport.TinyConfigs.Bert(), ["score"], ProblemType.Regression);
        var data = Enumerable.Range(0, 8).Select(i => LabeledExample.Regression("good phone", 3e38f)).ToList();
        var e = Assert.Throws<TrainingDivergedException>(() => ToyData.Tuner(model, Fast).Train(data));
        Assert.Equal(1, e.Step);
        Assert.Contains("learning rate", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_input_gets_clear_errors()
    {
        using var model = ToyData.Model();
        FineTuner tuner = ToyData.Tuner(model, Fast);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => tuner.Train<LabeledExample>([])).Message, StringComparison.Ordinal);
        var unknown = ToyData.Sentiment(4);
        unknown.Add(new LabeledExample("good", "neutral"));
        var e = Assert.Throws<ArgumentException>(() => tuner.Evaluate(unknown));
        Assert.Contains("#4", e.Message, StringComparison.Ordinal);
        Assert.Contains("'neutral'", e.Message, StringComparison.Ordinal);
        Assert.Contains("#1", Assert.Throws<ArgumentException>(() => tuner.Train([new LabeledExample("good", "positive"), new LabeledExample("  ", "negative")])).Message, StringComparison.Ordinal);
        string file = Path.Combine(TestSupport.TestTemp.NewDirectory("ft-bad"), "a-file");
        File.WriteAllText(file, "x");
        Assert.Throws<UnauthorizedAccessException>(() => ToyData.Tuner(model, Fast with { OutputDirectory = Path.Combine(file, "out") }).Train(ToyData.Sentiment(4)));
        Assert.Throws<ArgumentException>(() => ToyData.Tuner(model, Fast with { BatchSize = 0 }));
    }

    [Fact]
    public void Texts_longer_than_the_maximum_are_truncated()
    {
        using var model = ToyData.Model();
        string longText = string.Join(' ', Enumerable.Repeat("good phone", 200));
        TrainingReport report = ToyData.Tuner(model, Fast with { Epochs = 1, MaxSequenceLength = 16 }).Train([new LabeledExample(longText, "positive"), new LabeledExample("bad", "negative")]);
        Assert.Equal(1, report.GlobalStep);
    }

    [Fact]
    public void Layerwise_decay_and_head_rate_set_group_learning_rates_and_warmup_follows_hugging_face()
    {
        var scheduler = new Bert.Sharp.Training.LearningRateScheduler(LearningRateSchedule.Linear, 2, 10);
        Assert.Equal([0.0, 0.5, 1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125], Enumerable.Range(0, 10).Select(scheduler.Factor));
        using var model = ToyData.Model();
        var options = Fast with { LayerwiseLearningRateDecay = 0.5, HeadLearningRate = 1e-2 };
        model.ApplyFreezePolicy(options.FreezePolicy);
        using var optimizer = Bert.Sharp.Training.TrainableOptimizer.Create(model, options);
        var scales = optimizer.Layout.ToDictionary(g => g.Key, g => g.Scale);
        Assert.Equal(1.0, scales["encoder.layer.1/decay"] * 2);
        Assert.Equal(0.25, scales["encoder.layer.0/decay"]);
        Assert.Equal(0.125, scales["embeddings/no_decay"]);
        Assert.DoesNotContain(optimizer.Layout.Where(g => g.Decay).SelectMany(g => g.Names), n => n.EndsWith("bias", StringComparison.Ordinal) || n.Contains("LayerNorm", StringComparison.Ordinal));
        Assert.Equal(1e-2, optimizer.SetLearningRates(1.0));
    }

    private static int CountTrainableTensors(BertForSequenceClassification model, FreezePolicy policy, int epoch) => model.ApplyFreezePolicy(policy, epoch).TrainableTensors;

    private static bool Same(Dictionary<string, float[]> a, Dictionary<string, float[]> b, string prefix) =>
        a.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).All(kv => kv.Value.AsSpan().SequenceEqual(b[kv.Key]));
}
