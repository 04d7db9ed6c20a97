namespace Bert.Sharp;

/// <summary>What a text classifier says about one text.</summary>
public sealed record Prediction
{
    /// <summary>The most likely label (single-label), the highest-scoring label (multi-label), or the output name (regression).</summary>
    public required string Label { get; init; }

    /// <summary>The probability of <see cref="Label"/> (softmax for single-label, sigmoid for multi-label); the raw value for regression.</summary>
    public required float Score { get; init; }

    /// <summary>Every label's probability, in the model's label order (regression: the raw outputs).</summary>
    public required IReadOnlyDictionary<string, float> Probabilities { get; init; }

    /// <summary>Multi-label: every label whose probability is at least the threshold (0.5); otherwise just <see cref="Label"/>.</summary>
    public required IReadOnlyList<string> Labels { get; init; }
}
