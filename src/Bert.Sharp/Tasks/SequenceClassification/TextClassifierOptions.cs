namespace Bert.Sharp;

/// <summary>How <see cref="TextClassifier.FromPretrained(string, TextClassifierOptions?)"/> loads a classifier.</summary>
public sealed record TextClassifierOptions : InferenceOptions
{
    /// <summary>
    /// Multi-label models (<see cref="ProblemType.MultiLabelClassification"/>): a label is in <see cref="Prediction.Labels"/>
    /// when its sigmoid probability is at least this. Default 0.5; lower it to favour recall (a label scored 0.47 is returned
    /// with 0.4). Ignored by single-label and regression models.
    /// </summary>
    public float MultiLabelThreshold { get; init; } = 0.5f;

    /// <summary>
    /// Multi-label models: thresholds for single labels, by label name, overriding <see cref="MultiLabelThreshold"/> for them
    /// (rare labels often want a lower one). A name the model does not have is an error at loading. <c>null</c>: none.
    /// </summary>
    public IReadOnlyDictionary<string, float>? LabelThresholds { get; init; }

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        MultiLabelThresholds.Validate(MultiLabelThreshold, LabelThresholds, nameof(TextClassifierOptions));
    }
}
