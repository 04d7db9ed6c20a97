namespace Bert.Sharp;

/// <summary>
/// What a classification head predicts, and so which loss trains it (Hugging Face's <c>problem_type</c>).
/// </summary>
public enum ProblemType
{
    /// <summary>Exactly one label per text (sentiment, topic); softmax + cross-entropy. <c>single_label_classification</c>.</summary>
    SingleLabelClassification,

    /// <summary>Any number of labels per text (tags); one sigmoid per label + binary cross-entropy. <c>multi_label_classification</c>.</summary>
    MultiLabelClassification,

    /// <summary>A number per text (a score, a rating); mean squared error. <c>regression</c>.</summary>
    Regression,
}

/// <summary>Conversions between <see cref="ProblemType"/> and the strings of <c>config.json</c>.</summary>
public static class ProblemTypes
{
    /// <summary>The <c>problem_type</c> string Hugging Face writes for <paramref name="type"/>.</summary>
    public static string ToConfigString(this ProblemType type) => type switch
    {
        ProblemType.SingleLabelClassification => "single_label_classification",
        ProblemType.MultiLabelClassification => "multi_label_classification",
        ProblemType.Regression => "regression",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>
    /// Reads a <c>problem_type</c>; <c>null</c> follows Hugging Face: one label means regression, more mean single-label.
    /// </summary>
    public static ProblemType FromConfigString(string? value, int numLabels) => value switch
    {
        null => numLabels == 1 ? ProblemType.Regression : ProblemType.SingleLabelClassification,
        "single_label_classification" => ProblemType.SingleLabelClassification,
        "multi_label_classification" => ProblemType.MultiLabelClassification,
        "regression" => ProblemType.Regression,
        _ => throw new ArgumentException($"problem_type '{value}' is not one of single_label_classification, multi_label_classification, regression."),
    };
}
