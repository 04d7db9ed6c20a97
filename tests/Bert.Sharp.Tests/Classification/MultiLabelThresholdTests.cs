using Bert.Sharp.Training;

namespace Bert.Sharp.Tests.Classification;

/// <summary>Multi-label decision thresholds (global and per label) and the multi-label metrics on hand-computed examples.</summary>
public class MultiLabelThresholdTests
{
    private static readonly string[] Labels = ["sports", "politics", "tech"];

    [Fact]
    public void A_label_scored_047_is_returned_with_threshold_04_and_dropped_with_the_default()
    {
        float[] row = [0.47f, 0.2f, 0.9f];
        Prediction byDefault = Prediction.FromScores(Labels, ProblemType.MultiLabelClassification, row);
        Assert.Equal(new[] { "tech" }, byDefault.Labels);

        float[] thresholds = MultiLabelThresholds.Resolve(Labels, 0.4f, null, nameof(TextClassifierOptions));
        Prediction lowered = Prediction.FromScores(Labels, ProblemType.MultiLabelClassification, row, thresholds);
        Assert.Equal(new[] { "sports", "tech" }, lowered.Labels);
        Assert.Equal("tech", lowered.Label);
    }

    [Fact]
    public void A_per_label_threshold_overrides_the_global_one_for_that_label_only()
    {
        float[] thresholds = MultiLabelThresholds.Resolve(Labels, 0.5f, new Dictionary<string, float> { ["politics"] = 0.1f, ["tech"] = 0.95f }, nameof(TextClassifierOptions));
        Assert.Equal(new[] { 0.5f, 0.1f, 0.95f }, thresholds);
        Prediction p = Prediction.FromScores(Labels, ProblemType.MultiLabelClassification, [0.5f, 0.2f, 0.9f], thresholds);
        Assert.Equal(new[] { "sports", "politics" }, p.Labels);
    }

    [Fact]
    public void Thresholds_only_apply_to_multi_label()
    {
        float[] thresholds = MultiLabelThresholds.Resolve(Labels, 0.01f, null, "x");
        Prediction p = Prediction.FromScores(Labels, ProblemType.SingleLabelClassification, [0.3f, 0.2f, 0.5f], thresholds);
        Assert.Equal(new[] { "tech" }, p.Labels);
    }

    [Fact]
    public void Bad_thresholds_are_refused_naming_the_option()
    {
        var unknown = Assert.Throws<ArgumentException>(() => MultiLabelThresholds.Resolve(Labels, 0.5f, new Dictionary<string, float> { ["sport"] = 0.3f }, nameof(TextClassifierOptions)));
        Assert.Contains("'sport'", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("TextClassifierOptions.LabelThresholds", unknown.Message, StringComparison.Ordinal);

        var range = Assert.Throws<ArgumentException>(() => new TextClassifierOptions { MultiLabelThreshold = 1.5f }.Validate());
        Assert.Contains("TextClassifierOptions.MultiLabelThreshold", range.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new TextClassifierOptions { LabelThresholds = new Dictionary<string, float> { ["a"] = float.NaN } }.Validate());
        Assert.Throws<ArgumentException>(() => new FineTuningOptions { MultiLabelThreshold = -0.1f }.Validate());
    }

    [Fact]
    public void Multi_label_metrics_match_a_hand_computation()
    {
        // labels a, b; three texts: truth {a}, {a, b}, {} ; predicted {a, b}, {a}, {}.
        bool[][] actual = [[true, false], [true, true], [false, false]];
        bool[][] predicted = [[true, true], [true, false], [false, false]];
        EvaluationReport r = ClassificationMetrics.MultiLabel(["a", "b"], actual, predicted, 0.25);

        Assert.Equal(1.0 / 3, r.Accuracy, 12);          // subset accuracy: only the third text is exactly right
        Assert.Equal(1.0, r.PerClass[0].Precision, 12);   // a: tp 2, predicted 2, support 2
        Assert.Equal(1.0, r.PerClass[0].Recall, 12);
        Assert.Equal(2, r.PerClass[0].Support);
        Assert.Equal(0.0, r.PerClass[1].F1, 12);          // b: tp 0, predicted 1, support 1
        Assert.Equal(1, r.PerClass[1].Support);
        Assert.Equal(2.0 / 3, r.MicroPrecision, 12);     // pooled: tp 2, predicted 3, true 3
        Assert.Equal(2.0 / 3, r.MicroRecall, 12);
        Assert.Equal(2.0 / 3, r.MicroF1, 12);
        Assert.Equal(0.5, r.MacroF1, 12);                // (1 + 0) / 2
        Assert.Equal((2.0 / 3, true), r.Metric(BestModelMetric.MicroF1));
        Assert.Contains("micro-F1=0.6667", r.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Single_label_micro_scores_equal_accuracy()
    {
        EvaluationReport r = ClassificationMetrics.SingleLabel(["a", "b"], [0, 1, 1, 0], [0, 1, 0, 0], 0.1);
        Assert.Equal(0.75, r.Accuracy, 12);
        Assert.Equal(0.75, r.MicroF1, 12);
        Assert.Equal(0.75, r.MicroPrecision, 12);
    }
}
