using Bert.Sharp;
using ScottPlot;

namespace SentimentAnalysis;

/// <summary>Draws the training curve (loss per step, evaluation loss and accuracy per epoch) as a PNG.</summary>
internal static class TrainingCurvePlot
{
    public static string Save(TrainingReport report, string path, string title)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel("loss");
        if (report.Steps.Count > 0)
        {
            var trainLoss = plot.Add.Scatter(report.Steps.Select(s => (double)s.Step).ToArray(), report.Steps.Select(s => s.Loss).ToArray());
            trainLoss.LegendText = "training loss";
            trainLoss.MarkerSize = 0;
        }

        if (report.Evaluations.Count > 0)
        {
            double[] steps = report.Evaluations.Select(e => (double)e.Step).ToArray();
            var evalLoss = plot.Add.Scatter(steps, report.Evaluations.Select(e => e.Report.Loss).ToArray());
            evalLoss.LegendText = "evaluation loss";
            var accuracy = plot.Add.Scatter(steps, report.Evaluations.Select(e => e.Report.Accuracy).ToArray());
            accuracy.LegendText = "evaluation accuracy";
            accuracy.Axes.YAxis = plot.Axes.Right;
            plot.Axes.Right.Label.Text = "accuracy";
        }

        plot.ShowLegend();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plot.SavePng(path, 900, 500);
        return path;
    }
}
