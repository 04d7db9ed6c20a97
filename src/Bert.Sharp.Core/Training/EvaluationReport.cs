using System.Globalization;
using System.Text;

namespace Bert.Sharp;

/// <summary>
/// Metrics of a model on a labelled set. Classification fills accuracy, micro and macro precision/recall/F1, per-class
/// figures and (single-label) the confusion matrix; regression fills <see cref="MeanSquaredError"/> and <see cref="MeanAbsoluteError"/>.
/// </summary>
/// <remarks>
/// Multi-label (scikit-learn's definitions, zero_division = 0): a label counts as predicted when its probability is at
/// least its threshold (<c>FineTuningOptions.MultiLabelThreshold</c> / <c>LabelThresholds</c>, 0.5 by default).
/// <see cref="Accuracy"/> is the <b>subset accuracy</b> (exact match: every label of the text right, none extra);
/// <see cref="MicroF1"/> pools the true positives, predictions and true labels of all labels; <see cref="MacroF1"/> is the
/// unweighted mean of the per-label F1 in <see cref="PerClass"/> (precision, recall, F1 and support per label).
/// </remarks>
public sealed record EvaluationReport
{
    /// <summary>Examples evaluated.</summary>
    public required int Count { get; init; }

    /// <summary>Mean loss (the training loss function).</summary>
    public required double Loss { get; init; }

    /// <summary>Class names, in the order of the confusion matrix and <see cref="PerClass"/>.</summary>
    public required IReadOnlyList<string> Labels { get; init; }

    /// <summary>Share of examples predicted right. Multi-label: the subset accuracy, the share of examples whose predicted label set equals the true one.</summary>
    public double Accuracy { get; init; } = double.NaN;

    /// <summary>
    /// Micro-averaged precision: true positives over all predictions, pooled over the classes. Single-label it equals
    /// <see cref="Accuracy"/>; multi-label it counts every (text, label) decision.
    /// </summary>
    public double MicroPrecision { get; init; } = double.NaN;

    /// <summary>Micro-averaged recall: true positives over all true labels, pooled over the classes.</summary>
    public double MicroRecall { get; init; } = double.NaN;

    /// <summary>Micro-averaged F1: the harmonic mean of <see cref="MicroPrecision"/> and <see cref="MicroRecall"/>.</summary>
    public double MicroF1 { get; init; } = double.NaN;

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
        BestModelMetric.MicroF1 => (MicroF1, true),
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

        if (!double.IsNaN(MicroF1))
        {
            s.Append(CultureInfo.InvariantCulture, $" micro-F1={MicroF1:F4}");
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
