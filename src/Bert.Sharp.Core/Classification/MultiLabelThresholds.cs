namespace Bert.Sharp;

/// <summary>
/// The decision thresholds of a multi-label classifier: a label is predicted when its sigmoid probability is at least its
/// threshold — the label's own from a per-label table, else the global one.
/// </summary>
internal static class MultiLabelThresholds
{
    /// <summary>Hugging Face's and scikit-learn's usual cut: 0.5.</summary>
    public const float Default = 0.5f;

    /// <summary>
    /// One threshold per label, in label order. Throws <see cref="ArgumentException"/> naming <paramref name="owner"/>'s option
    /// when a threshold is outside [0, 1] or NaN, or when the per-label table names a label the model does not have.
    /// </summary>
    public static float[] Resolve(IReadOnlyList<string> labels, float global, IReadOnlyDictionary<string, float>? perLabel, string owner)
    {
        ArgumentNullException.ThrowIfNull(labels);
        Check(global, $"{owner}.MultiLabelThreshold");
        var thresholds = new float[labels.Count];
        Array.Fill(thresholds, global);
        if (perLabel is null)
        {
            return thresholds;
        }

        foreach ((string label, float threshold) in perLabel)
        {
            Check(threshold, $"{owner}.LabelThresholds[\"{label}\"]");
            int index = IndexOf(labels, label);
            if (index < 0)
            {
                throw new ArgumentException($"{owner}.LabelThresholds names label '{label}', which the model does not have; its labels are: {string.Join(", ", labels)}.");
            }

            thresholds[index] = threshold;
        }

        return thresholds;
    }

    /// <summary>Checks the global and per-label values alone (no labels known yet); throws naming the option.</summary>
    public static void Validate(float global, IReadOnlyDictionary<string, float>? perLabel, string owner)
    {
        Check(global, $"{owner}.MultiLabelThreshold");
        foreach ((string label, float threshold) in perLabel ?? new Dictionary<string, float>())
        {
            Check(threshold, $"{owner}.LabelThresholds[\"{label}\"]");
        }
    }

    private static void Check(float threshold, string name)
    {
        if (!(threshold is >= 0f and <= 1f))
        {
            throw new ArgumentException($"{name} must be a probability between 0 and 1, got {threshold}.");
        }
    }

    private static int IndexOf(IReadOnlyList<string> labels, string label)
    {
        for (int i = 0; i < labels.Count; i++)
        {
            if (string.Equals(labels[i], label, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
