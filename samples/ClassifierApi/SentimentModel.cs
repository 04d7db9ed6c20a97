using System.Diagnostics;
using Bert.Sharp;
using Bert.Sharp.Models;

namespace ClassifierApi;

/// <summary>
/// The model served when no <c>--model</c> is given: the SentimentAnalysis sample's <c>output/sentiment/model</c>
/// (looked up in the working directory, then at the repository root), trained here the same way when it is missing.
/// </summary>
internal static partial class SentimentModel
{
    private static readonly string RelativePath = Path.Combine("output", "sentiment", "model");

    public static string FindOrTrain(IConfiguration configuration)
    {
        using ILoggerFactory loggers = LoggerFactory.Create(b => b.AddConfiguration(configuration.GetSection("Logging")).AddSimpleConsole(o => o.SingleLine = true));
        ILogger logger = loggers.CreateLogger("ClassifierApi.SentimentModel");
        string[] candidates = [.. new[] { Directory.GetCurrentDirectory(), RepositoryRoot() }.OfType<string>().Select(root => Path.GetFullPath(Path.Combine(root, RelativePath))).Distinct()];
        string? existing = candidates.FirstOrDefault(dir => File.Exists(Path.Combine(dir, "config.json")));
        if (existing is not null)
        {
            LogReusing(logger, existing);
            return existing;
        }

        string output = candidates[^1];
        Train(output, loggers, logger);
        return output;
    }

    /// <summary>The SentimentAnalysis sample's default run: top encoder layer + head, 4 epochs, lr 1e-4 (head 1e-3), warm-up 10 %, seed 42.</summary>
    private static void Train(string output, ILoggerFactory loggers, ILogger logger)
    {
        string data = Path.Combine(AppContext.BaseDirectory, "data", "amazon_cells_labelled.txt");
        LogTraining(logger, output, data);
        var names = new Dictionary<string, string>(StringComparer.Ordinal) { ["0"] = "negative", ["1"] = "positive" };
        IReadOnlyList<LabeledExample> all = [.. LabeledDataset.Load(data, DataFileOptions.Headerless(0, 1)).Select(e => new LabeledExample(e.Text, names[e.Label!]))];
        var (train, validation) = LabeledDataset.Split(all, 0.2, seed: 42);
        string baseModel = MiniLmModel.EnsureImported(loggerFactory: loggers);
        var options = new FineTuningOptions
        {
            Epochs = 4,
            BatchSize = 16,
            LearningRate = 1e-4,
            HeadLearningRate = 1e-3,
            WarmupRatio = 0.1,
            Seed = 42,
            MaxSequenceLength = 128,
            GroupByLength = true,
            FreezePolicy = FreezePolicy.FineTuneTopLayers(1),
            SaveStrategy = IntervalStrategy.No,
            SaveBestModel = false,
            LoggerFactory = loggers,
        };
        var clock = Stopwatch.StartNew();
        TrainingReport report = FineTuner.Train(baseModel, output, train, validation, options);
        double accuracy = report.Evaluations.Count > 0 ? report.Evaluations[^1].Report.Accuracy : double.NaN;
        LogTrained(logger, clock.Elapsed.TotalSeconds, accuracy, output);
    }

    private static string? RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Bert.Sharp.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving the sentiment model at '{Directory}' (pass --model DIR to serve another)")]
    private static partial void LogReusing(ILogger logger, string directory);

    [LoggerMessage(Level = LogLevel.Information, Message = "No sentiment model yet: fine-tuning all-MiniLM-L6-v2 into '{Directory}' on '{Data}' (top layer + head, 4 epochs, seed 42; 15–20 s on 2 idle cores, minutes on a busy machine)")]
    private static partial void LogTraining(ILogger logger, string directory, string data);

    [LoggerMessage(Level = LogLevel.Information, Message = "Trained in {Seconds:F0} s; held-out accuracy {Accuracy:P1}; saved to '{Directory}'")]
    private static partial void LogTrained(ILogger logger, double seconds, double accuracy, string directory);
}
