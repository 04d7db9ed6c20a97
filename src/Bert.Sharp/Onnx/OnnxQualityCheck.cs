namespace Bert.Sharp;

/// <summary>
/// What <see cref="OnnxExporter"/> checks an int8 export against before writing it (<see cref="OnnxExportOptions.QualityCheck"/>):
/// the quantized model and the float32 export score the caller's <see cref="Texts"/>, and the largest change of a
/// probability and the share of texts whose top label stays the same are compared with the limits.
/// </summary>
/// <remarks>
/// Bert.Sharp does not depend on ONNX Runtime, so the exporter cannot run the graphs itself: <see cref="Scorer"/> does.
/// Bert.Sharp.Onnx supplies one, <c>OnnxExportScoring.TextClassification</c>, which runs an exported file through
/// <c>OnnxTextClassifier</c> in process. Both graphs are scored by the same runtime, so the report measures quantization
/// only.
/// </remarks>
public sealed record OnnxQualityCheck
{
    /// <summary>The calibration texts: like the texts the model will serve, and not its training data.</summary>
    public required IReadOnlyList<string> Texts { get; init; }

    /// <summary>
    /// Scores texts with one exported file: (model folder, .onnx path, texts) → one vector of probabilities per text, in label
    /// order. <c>OnnxExportScoring.TextClassification</c> of Bert.Sharp.Onnx is one.
    /// </summary>
    public required Func<string, string, IReadOnlyList<string>, IReadOnlyList<float[]>> Scorer { get; init; }

    /// <summary>The largest change of any probability of any text allowed (default 0.05).</summary>
    public double MaxProbabilityChange { get; init; } = 0.05;

    /// <summary>The smallest share of texts whose top label must stay the same (default 0.98: one text in 50 may flip).</summary>
    public double MinLabelAgreement { get; init; } = 0.98;

    /// <summary>What happens when a limit is exceeded: refuse (default; nothing is written) or warn and write the file.</summary>
    public OnnxQualityAction OnFailure { get; init; } = OnnxQualityAction.Refuse;

    /// <summary>Checks the values.</summary>
    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Texts, nameof(Texts));
        ArgumentNullException.ThrowIfNull(Scorer, nameof(Scorer));
        if (Texts.Count == 0 || Texts.Any(t => t is null))
        {
            throw new ArgumentException($"{nameof(OnnxQualityCheck)}.{nameof(Texts)} must hold at least one text and no null.", nameof(Texts));
        }

        if (!(MaxProbabilityChange is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxProbabilityChange), MaxProbabilityChange, "A probability change lies in [0, 1].");
        }

        if (!(MinLabelAgreement is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(MinLabelAgreement), MinLabelAgreement, "A share of texts lies in [0, 1].");
        }

        if (!Enum.IsDefined(OnFailure))
        {
            throw new ArgumentOutOfRangeException(nameof(OnFailure), OnFailure, "Unknown action.");
        }
    }
}
