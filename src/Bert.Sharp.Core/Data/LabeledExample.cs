namespace Bert.Sharp;

/// <summary>
/// One labelled text (or text pair) for training or evaluating a classifier.
/// </summary>
/// <remarks>
/// Use the constructor for single-label classification (the common case: sentiment, topic),
/// <see cref="MultiLabel"/> when an example can carry several labels at once, and <see cref="Regression"/>
/// when the target is a number. Load many at once from a file with <see cref="LabeledDataset"/>.
/// </remarks>
public sealed class LabeledExample
{
    /// <summary>Creates a single-label example.</summary>
    /// <param name="text">The text to classify.</param>
    /// <param name="label">Its label, for example <c>positive</c> or <c>1</c>.</param>
    /// <param name="textPair">An optional second text (sentence-pair tasks such as entailment).</param>
    public LabeledExample(string text, string label, string? textPair = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(label);
        Text = text;
        TextPair = textPair;
        Label = label;
        Labels = [label];
    }

    private LabeledExample(string text, string? textPair, string? label, IReadOnlyList<string> labels, float? value)
    {
        Text = text;
        TextPair = textPair;
        Label = label;
        Labels = labels;
        Value = value;
    }

    /// <summary>The text to classify.</summary>
    public string Text { get; }

    /// <summary>The second text of a sentence pair, or <c>null</c>.</summary>
    public string? TextPair { get; }

    /// <summary>The label of a single-label example; <c>null</c> for multi-label and regression examples.</summary>
    public string? Label { get; }

    /// <summary>Every label of the example: one for single-label, any number (possibly none) for multi-label, none for regression.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>The target of a regression example; <c>null</c> otherwise.</summary>
    public float? Value { get; }

    /// <summary>Creates an example that carries any number of labels (multi-label classification, trained with BCE).</summary>
    public static LabeledExample MultiLabel(string text, IEnumerable<string> labels, string? textPair = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(labels);
        string[] list = [.. labels.Distinct(StringComparer.Ordinal)];
        if (list.Any(l => l is null))
        {
            throw new ArgumentException("A multi-label example's labels must not contain null.", nameof(labels));
        }

        return new LabeledExample(text, textPair, null, list, null);
    }

    /// <summary>Creates an example with a numeric target (regression, trained with MSE).</summary>
    public static LabeledExample Regression(string text, float value, string? textPair = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!float.IsFinite(value))
        {
            throw new ArgumentException($"A regression target must be finite, got {value}.", nameof(value));
        }

        return new LabeledExample(text, textPair, null, [], value);
    }

    /// <inheritdoc />
    public override string ToString()
    {
        string target = Value is float v ? v.ToString(System.Globalization.CultureInfo.InvariantCulture) : string.Join("|", Labels);
        string text = Text.Length > 60 ? string.Concat(Text.AsSpan(0, 57), "...") : Text;
        return TextPair is null ? $"[{target}] {text}" : $"[{target}] {text} || {TextPair}";
    }
}
