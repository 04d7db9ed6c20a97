namespace Bert.Sharp;

/// <summary>What a text classifier says about one text.</summary>
public sealed record Prediction
{
    /// <summary>The most likely label (single-label), the highest-scoring label (multi-label), or the output name (regression).</summary>
    public required string Label { get; init; }

    /// <summary>The probability of <see cref="Label"/> (softmax for single-label, sigmoid for multi-label); the predicted value for regression.</summary>
    public required float Score { get; init; }

    /// <summary>Every label's probability, in the model's label order; empty for regression (see <see cref="Values"/>).</summary>
    public required IReadOnlyDictionary<string, float> Probabilities { get; init; }

    /// <summary>
    /// Multi-label: every label whose probability is at least its threshold (the classifier options'
    /// <c>MultiLabelThreshold</c>, 0.5 by default, or the label's own from <c>LabelThresholds</c>), in label order — possibly
    /// none; otherwise just <see cref="Label"/>.
    /// </summary>
    public required IReadOnlyList<string> Labels { get; init; }

    /// <summary>Regression: the predicted value of each output, by output name; empty for classification.</summary>
    public IReadOnlyDictionary<string, float> Values { get; init; } = EmptyScores;

    private static IReadOnlyDictionary<string, float> EmptyScores { get; } = new Dictionary<string, float>(0);

    /// <summary>
    /// The prediction for one row of model outputs: probabilities for classification (softmax or sigmoid already applied),
    /// raw values for regression. Multi-label: <paramref name="thresholds"/> holds one threshold per label (empty: 0.5 for all).
    /// </summary>
    /// <exception cref="InvalidOperationException">A score is NaN or infinite: the model's weights overflow float32 (a damaged or hostile checkpoint or adapter); a label chosen from it would mean nothing.</exception>
    internal static Prediction FromScores(IReadOnlyList<string> labels, ProblemType problemType, ReadOnlySpan<float> row, ReadOnlySpan<float> thresholds = default)
    {
        for (int c = 0; c < row.Length; c++)
        {
            if (!float.IsFinite(row[c]))
            {
                throw new InvalidOperationException(
                    $"The model's score for label '{labels[c]}' is {row[c]}: its forward pass overflows float32 (weights too large for the model to mean anything, as a damaged or hostile checkpoint or adapter has). No prediction is made from it.");
            }
        }

        int best = 0;
        for (int c = 1; c < row.Length; c++)
        {
            best = row[c] > row[best] ? c : best;
        }

        var scores = new Dictionary<string, float>(row.Length, StringComparer.Ordinal);
        for (int c = 0; c < row.Length; c++)
        {
            scores[labels[c]] = row[c];
        }

        if (problemType == ProblemType.Regression)
        {
            return new Prediction { Label = labels[best], Score = row[best], Probabilities = EmptyScores, Labels = [labels[best]], Values = scores };
        }

        var chosen = new List<string>(problemType == ProblemType.MultiLabelClassification ? row.Length : 1);
        for (int c = 0; c < row.Length; c++)
        {
            if (problemType == ProblemType.MultiLabelClassification ? row[c] >= (thresholds.IsEmpty ? MultiLabelThresholds.Default : thresholds[c]) : c == best)
            {
                chosen.Add(labels[c]);
            }
        }

        return new Prediction { Label = labels[best], Score = row[best], Probabilities = scores, Labels = chosen };
    }
}
