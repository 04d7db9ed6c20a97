using Microsoft.Extensions.Logging;
using Bert.Sharp.Tests.TestSupport;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Training;

/// <summary>
/// Issue 21 row 12: the same <see cref="FineTuningOptions.Seed"/> gives bit-identical losses whichever documented way
/// the model and its head were created, with other draws from torch's global generator between the runs.
/// </summary>
public sealed class SameSeedSameRunTests(ITestOutputHelper output) : IDisposable
{
    private const int Seed = 1234;
    private readonly string dir = TestTemp.NewDirectory("same-seed");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void FromPretrained_then_FineTuner_repeats_its_losses()
    {
        string baseModel = SaveBase();
        BertTokenizer tokenizer = BertTokenizer.FromPretrained(baseModel);
        AssertRepeats(i =>
        {
            using var model = BertForSequenceClassification.FromPretrained(baseModel, ["negative", "positive"]);
            ConsumeGlobalRandomness(i);
            return Losses(new FineTuner(model, tokenizer, Options()).Train(ToyData.Sentiment(16), null));
        });
    }

    [Fact]
    public void One_call_Train_repeats_its_losses()
    {
        string baseModel = SaveBase();
        AssertRepeats(i => Losses(FineTuner.Train(baseModel, Path.Combine(dir, $"one-call-{i}"), ToyData.Sentiment(16), null, Options())));
    }

    [Fact]
    public void A_new_model_from_a_config_repeats_its_losses()
    {
        BertTokenizer tokenizer = BertTokenizer.FromVocabulary(TestAssets.UncasedVocabPath);
        AssertRepeats(i =>
        {
            using var model = new BertForSequenceClassification(TinyConfigs.Bert(vocab: tokenizer.VocabularySize, dropout: 0.1), ["negative", "positive"]);
            ConsumeGlobalRandomness(i);
            return Losses(new FineTuner(model, tokenizer, Options()).Train(ToyData.Sentiment(16), null));
        });
    }

    [Fact]
    public void A_seeded_head_does_not_depend_on_the_global_generator()
    {
        // TorchSharp 0.107's nn.init.normal_ ignores its generator: ClassifierLoadOptions.Seed gave another head after any other draw.
        string baseModel = SaveBase();
        using var a = BertForSequenceClassification.FromPretrained(baseModel, ["negative", "positive"], new ClassifierLoadOptions { Seed = 5 });
        ConsumeGlobalRandomness(3);
        using var b = BertForSequenceClassification.FromPretrained(baseModel, ["negative", "positive"], new ClassifierLoadOptions { Seed = 5 });
        Assert.True(a.Head.Weight.equal(b.Head.Weight).all().item<bool>());
        Assert.True(a.Head.Weight.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void FromPretrained_then_FineTuner_starts_from_the_head_the_one_call_Train_draws()
    {
        string baseModel = SaveBase();
        BertTokenizer tokenizer = BertTokenizer.FromPretrained(baseModel);
        using var model = BertForSequenceClassification.FromPretrained(baseModel, ["negative", "positive"]);
        double[] twoStep = Losses(new FineTuner(model, tokenizer, Options()).Train(ToyData.Sentiment(16), null));
        double[] oneCall = Losses(FineTuner.Train(baseModel, Path.Combine(dir, "one-call"), ToyData.Sentiment(16), null, Options()));
        Assert.Equal(oneCall, twoStep);
    }

    [Fact]
    public void A_head_set_by_the_user_is_not_redrawn()
    {
        string baseModel = SaveBase();
        BertTokenizer tokenizer = BertTokenizer.FromPretrained(baseModel);
        using var model = BertForSequenceClassification.FromPretrained(baseModel, ["negative", "positive"]);
        using (no_grad())
        {
            model.Head.Weight.fill_(0.01);
        }

        var log = new CapturingLoggerProvider();
        using var factory = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddProvider(log).SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Information));
        new FineTuner(model, tokenizer, Options() with { MaxSteps = 1, LearningRate = 1e-12, LoggerFactory = factory }).Train(ToyData.Sentiment(4), null);
        Assert.InRange(model.Head.Weight.mean().item<float>(), 0.0099f, 0.0101f);
        Assert.DoesNotContain(log.Messages, m => m.Contains("redrawn from FineTuningOptions.Seed", StringComparison.Ordinal));
    }

    [Fact]
    public void The_redraw_is_logged()
    {
        string baseModel = SaveBase();
        BertTokenizer tokenizer = BertTokenizer.FromPretrained(baseModel);
        using var model = BertForSequenceClassification.FromPretrained(baseModel, ["negative", "positive"]);
        var log = new CapturingLoggerProvider();
        using var factory = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddProvider(log).SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Information));
        new FineTuner(model, tokenizer, Options() with { MaxSteps = 1, LoggerFactory = factory }).Train(ToyData.Sentiment(4), null);
        Assert.Contains(log.Messages, m => m.StartsWith("classifier: initial weights drawn from torch's global generator", StringComparison.Ordinal) && m.Contains($"Seed = {Seed}", StringComparison.Ordinal));
    }

    private static FineTuningOptions Options() => new() { Seed = Seed, MaxSteps = 5, BatchSize = 4, LearningRate = 1e-3, SaveStrategy = IntervalStrategy.No };

    private static double[] Losses(TrainingReport report) => [.. report.Steps.Select(s => s.Loss)];

    // Other users of torch's process-wide generator (other tests, other threads, the caller's own code) between runs.
    private static void ConsumeGlobalRandomness(int i)
    {
        using var scope = NewDisposeScope();
        for (int k = 0; k <= i; k++)
        {
            randn(17, 3).Dispose();
        }
    }

    private void AssertRepeats(Func<int, double[]> run)
    {
        double[][] losses = [.. Enumerable.Range(0, 3).Select(i =>
        {
            double[] l = run(i);
            randn(5).Dispose();
            return l;
        })];
        foreach (double[] l in losses)
        {
            output.WriteLine(string.Join(" ", l.Select(x => x.ToString("R", System.Globalization.CultureInfo.InvariantCulture))));
        }

        Assert.Equal(5, losses[0].Length);
        Assert.Equal(losses[0], losses[1]);
        Assert.Equal(losses[0], losses[2]);
    }

    private string SaveBase()
    {
        string baseModel = Path.Combine(dir, "base");
        BertTokenizer tokenizer = BertTokenizer.FromVocabulary(TestAssets.UncasedVocabPath);
        using var encoder = SeededWeights.Apply(new BertModel(TinyConfigs.Bert(vocab: tokenizer.VocabularySize, dropout: 0.1), addPoolingLayer: true), 3);
        encoder.SavePretrained(baseModel, tokenizer);
        return baseModel;
    }

    private sealed class CapturingLoggerProvider : Microsoft.Extensions.Logging.ILoggerProvider
    {
        private readonly List<string> messages = [];

        public IReadOnlyList<string> Messages
        {
            get
            {
                lock (messages)
                {
                    return [.. messages];
                }
            }
        }

        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider owner) : Microsoft.Extensions.Logging.ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

            public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner.messages)
                {
                    owner.messages.Add(formatter(state, exception));
                }
            }
        }
    }
}
