using Bert.Sharp;
using Spectre.Console;

namespace SentimentAnalysis;

/// <summary>Prints evaluation results as tables.</summary>
internal static class ReportPrinter
{
    public static void PrintEpochs(TrainingReport report)
    {
        var table = new Table().Title("Evaluation on the held-out set").AddColumns("Epoch", "Step", "Loss", "Accuracy", "Macro precision", "Macro recall", "Macro F1");
        foreach (EvaluationRecord record in report.Evaluations)
        {
            EvaluationReport e = record.Report;
            table.AddRow($"{record.Epoch:F1}", $"{record.Step}", $"{e.Loss:F4}", $"{e.Accuracy:P1}", $"{e.MacroPrecision:P1}", $"{e.MacroRecall:P1}", $"{e.MacroF1:P1}");
        }

        AnsiConsole.Write(table);
    }

    public static void PrintConfusionMatrix(EvaluationReport report)
    {
        if (report.ConfusionMatrix is not { } matrix)
        {
            return;
        }

        var table = new Table().Title("Confusion matrix (rows: true label, columns: predicted)").AddColumn("");
        foreach (string label in report.Labels)
        {
            table.AddColumn(label);
        }

        for (int i = 0; i < matrix.Count; i++)
        {
            table.AddRow([report.Labels[i], .. matrix[i].Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        }

        AnsiConsole.Write(table);
    }

    public static void PrintComparison(IReadOnlyList<(string Approach, ParameterSummary Parameters, TimeSpan Time, EvaluationReport Result)> runs)
    {
        var table = new Table().Title("Transfer learning vs fine-tuning").AddColumns("Approach", "Trainable parameters", "Training time", "Accuracy", "Macro F1");
        foreach (var run in runs)
        {
            table.AddRow(run.Approach, $"{run.Parameters.Trainable:N0} of {run.Parameters.Total:N0} ({run.Parameters.TrainableFraction:P1})", $"{run.Time.TotalSeconds:F1} s", $"{run.Result.Accuracy:P1}", $"{run.Result.MacroF1:P1}");
        }

        AnsiConsole.Write(table);
    }

    public static void PrintPredictions(IReadOnlyList<string> texts, IReadOnlyList<Prediction> predictions)
    {
        var table = new Table().Title("Predictions of the reloaded model").AddColumns("Text", "Label", "Score");
        for (int i = 0; i < texts.Count; i++)
        {
            table.AddRow(Markup.Escape(texts[i]), predictions[i].Label, $"{predictions[i].Score:P1}");
        }

        AnsiConsole.Write(table);
    }
}
