using System.Globalization;
using System.Text;

namespace Bert.Sharp;

/// <summary>
/// Metrics of a model on a labelled set. Classification fills accuracy, macro precision/recall/F1, per-class figures
/// and (single-label) the confusion matrix; regression fills <see cref="MeanSquaredError"/> and <see cref="MeanAbsoluteError"/>.
/// </summary>
public sealed record EvaluationReport
{
    /// <summary>Examples evaluated.</summary>
    public required int Count { get; init; }

    /// <summary>Mean loss (the training loss function).</summary>
    public required double Loss { get; init; }

    /// <summary>Class names, in the order of the confusion matrix and <see cref="PerClass"/>.</summary>
    public required IReadOnlyList<string> Labels { get; init; }

    /// <summary>Share of examples predicted right (multi-label: all labels right).</summary>
    public double Accuracy { get; init; } = double.NaN;

    /// <summary>Unweighted mean of per-class precision.</summary>
    public double MacroPrecision { get; init; } = double.NaN;

    /// <summary>Unweighted mean of per-class recall.</summary>
    public double MacroRecall { get; init; } = double.NaN;

    /// <summary>Unweighted mean of per-class F1.</summary>
    public double MacroF1 { get; init; } = double.NaN;

    /// <summary>Single-label: <c>ConfusionMatrix[actual][predicted]</c> counts; <c>null</c> otherwise.</summary>
    public IReadOnlyList<IReadOnlyList<int>>? ConfusionMatrix { get; init; }

    /// <summary>Per-class precision, recall, F1 and support (classification only).</summary>
    public IReadOnlyList<ClassMetrics> PerClass { get; init; } = [];

    /// <summary>Regression: mean squared error; NaN otherwise.</summary>
    public double MeanSquaredError { get; init; } = double.NaN;

    /// <summary>Regression: mean absolute error; NaN otherwise.</summary>
    public double MeanAbsoluteError { get; init; } = double.NaN;

    /// <summary>Token classification: entity-level micro precision (seqeval's semantics); NaN otherwise.</summary>
    public double EntityPrecision { get; init; } = double.NaN;

    /// <summary>Token classification: entity-level micro recall; NaN otherwise.</summary>
    public double EntityRecall { get; init; } = double.NaN;

    /// <summary>Token classification: entity-level micro F1; NaN otherwise.</summary>
    public double EntityF1 { get; init; } = double.NaN;

    /// <summary>The value of <paramref name="metric"/>, and whether higher is better.</summary>
    public (double Value, bool HigherIsBetter) Metric(BestModelMetric metric) => metric switch
    {
        BestModelMetric.Accuracy => (Accuracy, true),
        BestModelMetric.MacroF1 => (MacroF1, true),
        BestModelMetric.EntityF1 => (EntityF1, true),
        _ => (Loss, false),
    };

    /// <inheritdoc />
    public override string ToString()
    {
        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"n={Count} loss={Loss:F4}");
        if (!double.IsNaN(Accuracy))
        {
            s.Append(CultureInfo.InvariantCulture, $" accuracy={Accuracy:F4} macro-P={MacroPrecision:F4} macro-R={MacroRecall:F4} macro-F1={MacroF1:F4}");
        }

        if (!double.IsNaN(EntityF1))
        {
            s.Append(CultureInfo.InvariantCulture, $" entity-P={EntityPrecision:F4} entity-R={EntityRecall:F4} entity-F1={EntityF1:F4}");
        }

        if (!double.IsNaN(MeanSquaredError))
        {
            s.Append(CultureInfo.InvariantCulture, $" mse={MeanSquaredError:F4} mae={MeanAbsoluteError:F4}");
        }

        return s.ToString();
    }
}

/// <summary>Precision, recall, F1 and support of one class.</summary>
/// <param name="Label">The class.</param>
/// <param name="Precision">Right predictions of the class / all predictions of it (0 when never predicted).</param>
/// <param name="Recall">Right predictions of the class / its examples (0 when it has none).</param>
/// <param name="F1">Harmonic mean of precision and recall.</param>
/// <param name="Support">Examples of the class.</param>
public sealed record ClassMetrics(string Label, double Precision, double Recall, double F1, int Support);
