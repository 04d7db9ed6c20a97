using Bert.Sharp;
using ScottPlot;

namespace SentimentAnalysis;

/// <summary>
/// Draws a run as a chart for a report: the training loss per step (faint) with its moving average, the validation
/// loss at each evaluation, the validation accuracy in percent on an honest right axis, and the epochs.
/// </summary>
internal static class TrainingCurvePlot
{
    private const int Width = 1800;
    private const int Height = 1050;
    private const double Scale = 1.5; // Fonts and lines for a 1200 x 700 layout, drawn at 1.5x for a sharp image.

    private static readonly Color LossColor = Color.FromHex("#1f77b4");
    private static readonly Color ValidationColor = Color.FromHex("#d62728");
    private static readonly Color AccuracyColor = Color.FromHex("#2ca02c");
    private static readonly Color EpochColor = Color.FromHex("#7f7f7f");
    private static readonly string[] SansFonts = ["Segoe UI", "Helvetica Neue", "Arial", "DejaVu Sans", "Liberation Sans"];

    public static string Save(TrainingReport report, string path, string title)
    {
        using var plot = new Plot { ScaleFactor = Scale };
        plot.Font.Set(SansFont());
        plot.Title($"Sentiment fine-tuning: {title}");
        plot.XLabel("optimizer step (one batch each)");
        plot.YLabel("cross-entropy loss");
        plot.Grid.MajorLineColor = Colors.Black.WithAlpha(0.08);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { TickDensity = 0.5 };

        double[] steps = [.. report.Steps.Select(s => (double)s.Step)];
        double[] losses = [.. report.Steps.Select(s => s.Loss)];
        double[] evaluatedAt = [.. report.Evaluations.Select(e => (double)e.Step)];
        double[] validationLoss = [.. report.Evaluations.Select(e => e.Report.Loss)];

        // The loss axis starts at 0 and leaves a band at the top for the epoch names.
        double lossTop = Math.Max(0.1, losses.Concat(validationLoss).Where(double.IsFinite).DefaultIfEmpty(1).Max() * 1.12);
        plot.Axes.SetLimitsY(0, lossTop, plot.Axes.Left);
        plot.Axes.SetLimitsX(0, Math.Max(1, steps.DefaultIfEmpty(1).Max()) * 1.03); // room for the last point and its label

        if (steps.Length > 0)
        {
            int span = (Math.Clamp(steps.Length / 15, 5, 51) / 2 * 2) + 1;
            var raw = plot.Add.ScatterLine(steps, losses, LossColor.WithAlpha(0.25));
            raw.LineWidth = 1;
            raw.LegendText = "training loss per step";
            var smooth = plot.Add.ScatterLine(steps, MovingAverage(losses, span), LossColor);
            smooth.LineWidth = 2.5f;
            smooth.LegendText = $"training loss, centred moving average of {span} steps";
        }

        if (evaluatedAt.Length > 0)
        {
            var validation = plot.Add.Scatter(evaluatedAt, validationLoss, ValidationColor);
            validation.LineWidth = 1.5f;
            validation.LinePattern = LinePattern.Dashed;
            validation.MarkerShape = MarkerShape.FilledCircle;
            validation.MarkerSize = 9;
            validation.LegendText = "validation loss (each evaluation)";
            AddAccuracy(plot, report, evaluatedAt, validationLoss, lossTop);
        }

        AddEpochs(plot, report, lossTop);
        plot.ShowLegend(Edge.Bottom);
        plot.Legend.FontSize = 13;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plot.SavePng(path, Width, Height);
        return path;
    }

    // Accuracy in percent on the right axis, from 50% (chance for two balanced classes) or 0% to 100%, each point
    // labelled above it, or below it where the validation-loss marker sits just above.
    private static void AddAccuracy(Plot plot, TrainingReport report, double[] at, double[] validationLoss, double lossTop)
    {
        double[] accuracy = [.. report.Evaluations.Select(e => e.Report.Accuracy * 100)];
        if (accuracy.All(double.IsNaN))
        {
            return;
        }

        double low = accuracy.Where(double.IsFinite).Min() < 50 ? 0 : 50;
        double range = 100 - low;
        plot.Axes.Right.Label.Text = "validation accuracy (%)";
        plot.Axes.Right.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => $"{v:0}%" };
        plot.Axes.SetLimitsY(low, 100, plot.Axes.Right);

        var line = plot.Add.Scatter(at, accuracy, AccuracyColor);
        line.Axes.YAxis = plot.Axes.Right;
        line.LineWidth = 2;
        line.MarkerShape = MarkerShape.FilledSquare;
        line.MarkerSize = 9;
        line.LegendText = "validation accuracy (%, right axis)";

        for (int i = 0; i < at.Length; i++)
        {
            if (!double.IsFinite(accuracy[i]))
            {
                continue;
            }

            // Where the loss marker would be on the accuracy axis: a label above the point would cover it when it is
            // up to a tenth of the axis above.
            double marker = low + (validationLoss[i] / lossTop * range);
            bool above = !(marker > accuracy[i] - (0.02 * range) && marker < accuracy[i] + (0.10 * range));
            var label = plot.Add.Text($"{accuracy[i]:0.0}%", at[i], accuracy[i]);
            label.Axes.YAxis = plot.Axes.Right;
            label.Alignment = above ? Alignment.LowerCenter : Alignment.UpperCenter;
            label.OffsetY = above ? -8 : 8;
            label.LabelFontSize = 12;
            label.LabelFontColor = AccuracyColor;
            label.LabelBackgroundColor = Colors.White.WithAlpha(0.8);
            label.LabelPadding = 2;
        }
    }

    // A dashed line where each epoch ends and the epoch's name centred along the top.
    private static void AddEpochs(Plot plot, TrainingReport report, double top)
    {
        IReadOnlyList<TrainingStepRecord> steps = report.Steps;
        if (steps.Count == 0)
        {
            return;
        }

        int epochs = Math.Max(1, (int)Math.Ceiling(steps[^1].Epoch - 1e-9));
        double start = 0;
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            TrainingStepRecord? last = steps.FirstOrDefault(s => s.Epoch >= epoch - 1e-9);
            double end = last?.Step ?? steps[^1].Step;
            if (epoch < epochs)
            {
                var boundary = plot.Add.VerticalLine(end, 1, EpochColor.WithAlpha(0.7), LinePattern.Dashed);
                boundary.ExcludeFromLegend = true;
            }

            var name = plot.Add.Text($"epoch {epoch}", (start + end) / 2, top);
            name.Alignment = Alignment.UpperCenter;
            name.OffsetY = 6;
            name.LabelFontSize = 13;
            name.LabelFontColor = EpochColor;
            start = end;
        }
    }

    // ScottPlot takes the system's default typeface, a serif one on many Linux machines.
    private static string SansFont()
    {
        var installed = SkiaSharp.SKFontManager.Default.GetFontFamilies().ToHashSet(StringComparer.OrdinalIgnoreCase);
        return SansFonts.FirstOrDefault(installed.Contains) ?? Fonts.Sans;
    }

    // Centred moving average over `span` steps (odd); near the ends the window shrinks to what there is.
    private static double[] MovingAverage(double[] values, int span)
    {
        int half = span / 2;
        var prefix = new double[values.Length + 1];
        for (int i = 0; i < values.Length; i++)
        {
            prefix[i + 1] = prefix[i] + values[i];
        }

        var averaged = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            int from = Math.Max(0, i - half);
            int to = Math.Min(values.Length, i + half + 1);
            averaged[i] = (prefix[to] - prefix[from]) / (to - from);
        }

        return averaged;
    }
}
