using System.Globalization;
using Bert.Sharp;
using Spectre.Console;

namespace SentimentAnalysis;

/// <summary>Prints results as tables and short summary lines, each on its own lines.</summary>
internal static class ReportPrinter
{
    public static void PrintEpochs(TrainingReport report)
    {
        var table = new Table().Title("Evaluation on the held-out set")
            .AddColumn(Right("Epoch")).AddColumn(Right("Step")).AddColumn(Right("Loss")).AddColumn(Right("Accuracy"))
            .AddColumn(Right("Macro precision")).AddColumn(Right("Macro recall")).AddColumn(Right("Macro F1"));
        foreach (EvaluationRecord record in report.Evaluations)
        {
            EvaluationReport e = record.Report;
            table.AddRow($"{record.Epoch:0.##}", $"{record.Step}", $"{e.Loss:F4}", $"{e.Accuracy:P1}", $"{e.MacroPrecision:P1}", $"{e.MacroRecall:P1}", $"{e.MacroF1:P1}");
        }

        AnsiConsole.Write(table);
    }

    public static void PrintConfusionMatrix(EvaluationReport report)
    {
        if (report.ConfusionMatrix is not { } matrix)
        {
            return;
        }

        var table = new Table().Title("Confusion matrix").Caption("rows: true label, columns: predicted").AddColumn("");
        foreach (string label in report.Labels)
        {
            table.AddColumn(Right(label));
        }

        for (int i = 0; i < matrix.Count; i++)
        {
            table.AddRow([report.Labels[i], .. matrix[i].Select(c => c.ToString(CultureInfo.InvariantCulture))]);
        }

        AnsiConsole.Write(table);
    }

    /// <summary>What trained and what stayed frozen, part by part, then time and where the outputs are.</summary>
    public static void PrintTrainingSummary(TrainingReport report, string curvePath, string? tensorBoardDirectory)
    {
        ParameterSummary parameters = report.Parameters;
        var table = new Table().Title("Parameters by part of the network").ShowFooters()
            .AddColumn(new TableColumn("Part").Footer("total"))
            .AddColumn(new TableColumn("State").Footer($"{Share(parameters.TrainableFraction)} trainable"))
            .AddColumn(Right("Trainable").Footer($"{parameters.Trainable:N0}"))
            .AddColumn(Right("Frozen").Footer($"{parameters.Frozen:N0}"));
        foreach (ParameterGroupSummary part in parameters.Parts)
        {
            string state = part.Frozen == 0 ? "[green]trainable[/]" : part.Trainable == 0 ? "[grey]frozen[/]" : "[yellow]partly frozen[/]";
            table.AddRow(Markup.Escape(part.Part), state, $"{part.Trainable:N0}", $"{part.Frozen:N0}");
        }

        AnsiConsole.Write(table);
        string cache = report.UsedFeatureCache ? "; encoder features cached" : "";
        AnsiConsole.MarkupLineInterpolated($"Trained [bold]{parameters.Trainable:N0}[/] of {parameters.Total:N0} parameters ({Share(parameters.TrainableFraction)}) for {report.GlobalStep} steps.");
        AnsiConsole.MarkupLineInterpolated($"Training took [bold]{TrainingDisplay.Format(report.Duration)}[/] ({report.SamplesPerSecond:F1} samples/s{cache}), precision {report.Precision}{(report.GradientCheckpointing ? ", gradient checkpointing" : "")}.");
        AnsiConsole.MarkupLineInterpolated($"Training curve: {curvePath}");
        if (tensorBoardDirectory is not null)
        {
            AnsiConsole.MarkupLineInterpolated($"TensorBoard:    tensorboard --logdir {tensorBoardDirectory}");
        }

        AnsiConsole.WriteLine();
    }

    public static void PrintComparison(IReadOnlyList<(string Approach, ParameterSummary Parameters, TimeSpan Time, EvaluationReport Result)> runs)
    {
        long total = runs.Count > 0 ? runs[0].Parameters.Total : 0;
        var table = new Table().Title("Transfer learning vs fine-tuning").Caption($"trainable parameters out of {total:N0}")
            .AddColumn("Approach").AddColumn(Right("Trainable")).AddColumn(Right("Share")).AddColumn(Right("Time"))
            .AddColumn(Right("Accuracy")).AddColumn(Right("Macro F1"));
        foreach (var run in runs)
        {
            table.AddRow(
                Markup.Escape(run.Approach), $"{run.Parameters.Trainable:N0}", Share(run.Parameters.TrainableFraction),
                TrainingDisplay.Format(run.Time), $"{run.Result.Accuracy:P1}", $"{run.Result.MacroF1:P1}");
        }

        AnsiConsole.Write(table);
        AnsiConsole.WriteLine();
    }

    public static void PrintPredictions(IReadOnlyList<string> texts, IReadOnlyList<Prediction> predictions)
    {
        var table = new Table().Title("Predictions of the reloaded model").AddColumn("Text").AddColumn("Label").AddColumn(Right("Score"));
        for (int i = 0; i < texts.Count; i++)
        {
            table.AddRow(Markup.Escape(texts[i]), Markup.Escape(predictions[i].Label), $"{predictions[i].Score:P1}");
        }

        AnsiConsole.Write(table);
    }

    // A share with the digits that matter: 100 %, 8.2 %, 0.0034 % (a linear head on a frozen encoder).
    private static string Share(double fraction) =>
        fraction is 0 or >= 0.01 ? fraction.ToString("P1", CultureInfo.CurrentCulture) : $"{fraction * 100:G2} %";

    private static TableColumn Right(string header) => new TableColumn(Markup.Escape(header)).RightAligned();
}
