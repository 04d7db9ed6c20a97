using System.Diagnostics;
using Bert.Sharp;
using Bert.Sharp.Models;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using TorchSharp;

namespace SentimentAnalysis;

/// <summary>The sample's job: data, model, training, evaluation, plot, save, reload, predict.</summary>
internal sealed class SentimentRun(SentimentSettings settings)
{
    private static readonly string[] NewSentences =
    [
        "This phone is fantastic, the battery lasts for days.",
        "Terrible headset, it broke after two days and support never answered.",
        "Works exactly as described, very happy with it.",
        "Waste of money. The sound is awful.",
    ];

    private const double LoraLearningRate = 1e-3;
    private const double LoraHeadFactor = 2;
    private const int LoraEpochs = 4;

    public int Run(CancellationToken cancellationToken)
    {
        using ILoggerFactory loggers = LoggerFactory.Create(b => b.AddProvider(new ConsoleLoggerProvider(LogLevel.Warning)));
        var total = Stopwatch.StartNew();
        // Everything the user typed is checked before the slow parts start.
        _ = PolicyNames.Create(settings.Policy, settings);
        _ = ParsePooling(settings.Pooling);
        _ = ParsePrecision(settings.Precision);
        torch.Device device = TorchRuntime.ParseDevice(settings.Device);
        (IReadOnlyList<LabeledExample> train, IReadOnlyList<LabeledExample> test, IReadOnlyList<string> labels) = LoadData();
        string modelDirectory = ResolveModel(loggers);
        AnsiConsole.MarkupLineInterpolated($"Data: [bold]{train.Count}[/] training and [bold]{test.Count}[/] held-out examples, labels {string.Join(", ", labels)}; device {device}.");

        var runs = new List<(string, ParameterSummary, TimeSpan, EvaluationReport)>();
        if (settings.Compare && settings.Policy != "transfer")
        {
            runs.Add(TrainOnce("transfer", modelDirectory, train, test, labels, device, loggers, save: false, cancellationToken));
        }

        if (settings.Compare && settings.Policy != "lora")
        {
            runs.Add(TrainOnce("lora", modelDirectory, train, test, labels, device, loggers, save: false, cancellationToken));
        }

        var main = TrainOnce(settings.Policy, modelDirectory, train, test, labels, device, loggers, save: true, cancellationToken);
        runs.Add(main);
        if (runs.Count > 1)
        {
            ReportPrinter.PrintComparison(runs);
        }

        string savedModel = Path.Combine(settings.Output, "model");
        using var classifier = TextClassifier.FromPretrained(savedModel, new TextClassifierOptions { Device = device, Precision = ParseInferencePrecision(settings.Precision) });
        var texts = settings.Texts.Count > 0 ? settings.Texts : NewSentences;
        ReportPrinter.PrintPredictions(texts, classifier.PredictBatch(texts));
        if (settings.ExportOnnx)
        {
            string exported = savedModel;
            if (classifier.AdapterNames.Count > 0)
            {
                // An adapter folder holds no full model: fold the adapter into the base and export that plain folder.
                exported = Path.Combine(settings.Output, "model-merged");
                classifier.Model.Adapters.Merge();
                ModelTokenizer.FromPretrained(savedModel).Save(classifier.Model, exported);
            }

            OnnxExportStep.Run(exported, test, main.Item4.Accuracy, settings.Int8, cancellationToken);
        }

        AnsiConsole.MarkupLineInterpolated($"Held-out accuracy [bold green]{main.Item4.Accuracy:P1}[/]; total time {total.Elapsed.TotalSeconds:F0} s (model import included). Model saved in {savedModel}.");
        return 0;
    }

    private static PoolingStrategy? ParsePooling(string name) => name switch
    {
        "pooler" => PoolingStrategy.Pooler,
        "mean" => PoolingStrategy.Mean,
        "cls" => PoolingStrategy.Cls,
        "auto" => null,
        _ => throw new ArgumentException($"Unknown pooling '{name}'; use auto, pooler, mean or cls."),
    };

    private static TrainingPrecision ParsePrecision(string name) => name switch
    {
        "fp32" => TrainingPrecision.Float32,
        "bf16" => TrainingPrecision.BFloat16,
        "fp16" => TrainingPrecision.Float16,
        "auto" => TrainingPrecision.Auto,
        _ => throw new ArgumentException($"Unknown precision '{name}'; use fp32, bf16, fp16 or auto."),
    };

    // The held-out predictions run in the precision the model was trained in.
    private static InferencePrecision ParseInferencePrecision(string name) => ParsePrecision(name) switch
    {
        TrainingPrecision.BFloat16 => InferencePrecision.BFloat16,
        TrainingPrecision.Float16 => InferencePrecision.Float16,
        TrainingPrecision.Auto => InferencePrecision.Auto,
        _ => InferencePrecision.Float32,
    };

    private string ResolveModel(ILoggerFactory loggers)
    {
        if (settings.Model is not null)
        {
            return PretrainedResolver.ResolveDirectory(settings.Model);
        }

        string? directory = null;
        AnsiConsole.Status().Start("Preparing the embedded all-MiniLM-L6-v2 (imported from ONNX on the first run only)...", _ =>
        {
            directory = MiniLmModel.EnsureImported(loggerFactory: loggers);
        });
        return directory!;
    }

    private (IReadOnlyList<LabeledExample> Train, IReadOnlyList<LabeledExample> Test, IReadOnlyList<string> Labels) LoadData()
    {
        DataFileOptions options = settings.HasHeader || settings.TextColumnName is not null || settings.LabelColumnName is not null
            ? new DataFileOptions { HasHeader = true, TextColumn = settings.TextColumnName ?? "text", LabelColumn = settings.LabelColumnName ?? "label" }
            : DataFileOptions.Headerless(settings.TextColumn, settings.LabelColumn);
        IReadOnlyList<LabeledExample> all = LabeledDataset.Load(settings.Data, options);
        IReadOnlyList<string> labels = LabeledDataset.DistinctLabels(all);
        if (labels.Count < 2)
        {
            throw new InvalidDataException($"'{settings.Data}' has a single class ({string.Join(", ", labels)}): a classifier needs at least two.");
        }

        if (settings.LabelNames is not null)
        {
            string[] names = settings.LabelNames.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (names.Length != labels.Count || names.Distinct(StringComparer.Ordinal).Count() != names.Length)
            {
                throw new ArgumentException($"--label-names gives {names.Length} distinct names but '{settings.Data}' has {labels.Count} labels ({string.Join(", ", labels)}).");
            }

            var rename = labels.Select((label, i) => (label, names[i])).ToDictionary(p => p.label, p => p.Item2, StringComparer.Ordinal);
            all = [.. all.Select(e => new LabeledExample(e.Text, rename[e.Label!], e.TextPair))];
            labels = names;
        }

        var (train, test) = LabeledDataset.Split(all, settings.TestFraction, settings.Seed);
        return (train, test, labels);
    }

    private (string, ParameterSummary, TimeSpan, EvaluationReport) TrainOnce(string policyName, string modelDirectory, IReadOnlyList<LabeledExample> train,
        IReadOnlyList<LabeledExample> test, IReadOnlyList<string> labels, torch.Device device, ILoggerFactory loggers, bool save, CancellationToken cancellationToken)
    {
        string description = PolicyNames.Describe(policyName, settings);
        AnsiConsole.Write(new Rule($"[bold]{Markup.Escape(description)}[/]").LeftJustified());
        torch.manual_seed(settings.Seed);
        // Any supported family: BERT / DistilBERT (WordPiece), RoBERTa (byte-level BPE), XLM-R (Unigram).
        ModelTokenizer tokenizer = ModelTokenizer.FromPretrained(modelDirectory);
        using BertForSequenceClassification model = BertForSequenceClassification.FromPretrained(modelDirectory, labels, new ClassifierLoadOptions { Device = device, LoggerFactory = loggers, Pooling = ParsePooling(settings.Pooling) });
        string runDirectory = Path.Combine(settings.Output, policyName);
        bool headOnly = policyName == "transfer";
        var options = new FineTuningOptions
        {
            Epochs = settings.Epochs,
            BatchSize = settings.BatchSize,
            LearningRate = settings.LearningRate,
            HeadLearningRate = settings.LearningRate * 10,
            WarmupRatio = 0.1,
            Seed = settings.Seed,
            MaxSequenceLength = settings.MaxLength,
            GroupByLength = true,
            FreezePolicy = PolicyNames.Create(policyName, settings),
            TensorBoardDirectory = Path.Combine(runDirectory, "runs"),
            OutputDirectory = Path.Combine(runDirectory, "checkpoints"),
            SaveStrategy = IntervalStrategy.No,
            SaveBestModel = false,
            LoggerFactory = loggers,
            Precision = ParsePrecision(settings.Precision),
            GradientCheckpointing = settings.GradientCheckpointing,
        };
        if (headOnly)
        {
            // Only a linear layer learns on fixed features: it needs a larger rate and more passes, which are cheap.
            options = options with { LearningRate = 1e-3, HeadLearningRate = 1e-3, Epochs = Math.Max(settings.Epochs, 10) };
        }
        else if (policyName == "lora" && !settings.LearningRateGiven)
        {
            // Adapters start at zero and are small: LoRA wants a rate several times fine-tuning's (PEFT examples use 5e-4 to 1e-3).
            options = options with { LearningRate = LoraLearningRate, HeadLearningRate = LoraLearningRate * LoraHeadFactor, Epochs = Math.Max(settings.Epochs, LoraEpochs) };
        }

        AnsiConsole.MarkupLineInterpolated($"Model: [bold]{model.Config.ModelType}[/] ({model.Config.NumHiddenLayers} layers), tokenizer {tokenizer.Kind}.");
        FineTuner tuner = tokenizer.CreateTuner(model, options);
        TrainingReport report = TrainingDisplay.Train(tuner, train, test, cancellationToken);
        ReportPrinter.PrintEpochs(report);
        EvaluationReport final = report.Evaluations.Count > 0 ? report.Evaluations[^1].Report : tuner.Evaluate(test, cancellationToken);
        ReportPrinter.PrintConfusionMatrix(final);
        string png = TrainingCurvePlot.Save(report, Path.Combine(runDirectory, "training-curve.png"), description);
        ReportPrinter.PrintTrainingSummary(report, png, options.TensorBoardDirectory);
        if (save)
        {
            tokenizer.Save(model, Path.Combine(settings.Output, "model"));
        }

        return (description, report.Parameters, report.Duration, final);
    }
}
