using Bert.Sharp.Tests.TestSupport;
using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Tests.Training;

/// <summary>The one-call <c>FineTuner.Train(base, output, ...)</c>: checkpoints only as asked, and logs that say what trains.</summary>
public sealed class OneCallDefaultsTests : IDisposable
{
    private readonly string dir = TestTemp.NewDirectory("onecall");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void A_successful_run_leaves_only_the_model_and_logs_why()
    {
        string baseModel = SaveBase(addPooler: true);
        string output = Path.Combine(dir, "model");
        var log = new InfoLog();
        using var factory = LoggerFactory.Create(b => b.AddProvider(log).SetMinimumLevel(LogLevel.Information));
        TrainingReport report = FineTuner.Train(baseModel, output, ToyData.Sentiment(8), ToyData.Sentiment(4),
            new FineTuningOptions { Epochs = 2, BatchSize = 4, LoggerFactory = factory });

        Assert.True(File.Exists(Path.Combine(output, "model.safetensors")));
        Assert.False(Directory.Exists(output + ".checkpoints"), "the checkpoint folder was left behind");
        Assert.Null(report.LastCheckpoint);
        Assert.Null(report.BestModelDirectory);
        Assert.Contains(log.Messages, m => m.Contains("KeepCheckpoints = false", StringComparison.Ordinal) && m.Contains(output + ".checkpoints", StringComparison.Ordinal));
        Assert.Contains(log.Messages, m => m.Contains("deleted the checkpoint folder", StringComparison.Ordinal));
    }

    [Fact]
    public void KeepCheckpoints_keeps_the_checkpoint_folder()
    {
        string baseModel = SaveBase(addPooler: true);
        string output = Path.Combine(dir, "model");
        TrainingReport report = FineTuner.Train(baseModel, output, ToyData.Sentiment(8), ToyData.Sentiment(4),
            new FineTuningOptions { Epochs = 2, BatchSize = 4, KeepCheckpoints = true });

        Assert.NotEmpty(Directory.GetDirectories(output + ".checkpoints", "checkpoint-*"));
        Assert.True(Directory.Exists(report.LastCheckpoint), report.LastCheckpoint);
    }

    [Fact]
    public void A_checkpoint_folder_that_existed_before_the_run_is_never_deleted()
    {
        string baseModel = SaveBase(addPooler: true);
        string output = Path.Combine(dir, "model");
        Directory.CreateDirectory(output + ".checkpoints");
        string mine = Path.Combine(output + ".checkpoints", "notes.txt");
        File.WriteAllText(mine, "the user's file");
        var log = new InfoLog();
        using var factory = LoggerFactory.Create(b => b.AddProvider(log).SetMinimumLevel(LogLevel.Information));

        FineTuner.Train(baseModel, output, ToyData.Sentiment(8), null, new FineTuningOptions { Epochs = 1, BatchSize = 4, LoggerFactory = factory });

        Assert.Equal("the user's file", File.ReadAllText(mine));
        Assert.Contains(log.Messages, m => m.Contains("the folder existed before this run", StringComparison.Ordinal));
    }

    [Fact]
    public void An_explicit_OutputDirectory_keeps_its_checkpoints()
    {
        string baseModel = SaveBase(addPooler: true);
        string checkpoints = Path.Combine(dir, "checkpoints");
        FineTuner.Train(baseModel, Path.Combine(dir, "model"), ToyData.Sentiment(8), null,
            new FineTuningOptions { Epochs = 1, BatchSize = 4, OutputDirectory = checkpoints });

        Assert.NotEmpty(Directory.GetDirectories(checkpoints, "checkpoint-*"));
    }

    [Theory]
    [InlineData(false, "encoder.layer.1, classifier")]
    [InlineData(true, "encoder.layer.1, pooler, classifier")]
    public void The_start_log_names_the_parts_that_train(bool addPooler, string parts)
    {
        string baseModel = SaveBase(addPooler);
        var log = new InfoLog();
        using var factory = LoggerFactory.Create(b => b.AddProvider(log).SetMinimumLevel(LogLevel.Information));
        FineTuner.Train(baseModel, Path.Combine(dir, "model"), ToyData.Sentiment(8), null,
            new FineTuningOptions { Epochs = 1, BatchSize = 4, FreezePolicy = FreezePolicy.FineTuneTopLayers(1), LoggerFactory = factory });

        string start = Assert.Single(log.Messages, m => m.StartsWith("Training 8 examples", StringComparison.Ordinal));
        Assert.Contains("policy: fine-tune top 1 layer(s) + head; trains: " + parts, start, StringComparison.Ordinal);
    }

    private string SaveBase(bool addPooler)
    {
        string baseModel = Path.Combine(dir, "base");
        BertTokenizer tokenizer = BertTokenizer.FromVocabulary(TestAssets.UncasedVocabPath);
        using var encoder = new BertModel(TinyConfigs.Bert(vocab: tokenizer.VocabularySize), addPooler);
        encoder.SavePretrained(baseModel, tokenizer);
        return baseModel;
    }

    private sealed class InfoLog : ILoggerProvider
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

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(InfoLog owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner.messages)
                {
                    owner.messages.Add(formatter(state, exception));
                }
            }
        }
    }
}
