using System.Globalization;
using Bert.Sharp.Inference;

namespace Bert.Sharp;

/// <summary>How far an int8 export's scores are from the float32 export's on the calibration texts (<see cref="OnnxQualityCheck"/>).</summary>
public sealed record OnnxQualityReport
{
    /// <summary>Texts scored.</summary>
    public required int Texts { get; init; }

    /// <summary>The largest absolute change of any probability of any text.</summary>
    public required double MaxProbabilityChange { get; init; }

    /// <summary>The mean over texts of each text's largest probability change.</summary>
    public required double MeanProbabilityChange { get; init; }

    /// <summary>Texts whose top label is the same in both models.</summary>
    public required int LabelsAgreeing { get; init; }

    /// <summary>The text with the largest change (for a look at what moves).</summary>
    public required string WorstText { get; init; }

    /// <summary>The limit on <see cref="MaxProbabilityChange"/> the check applied.</summary>
    public required double MaxProbabilityChangeAllowed { get; init; }

    /// <summary>The limit on <see cref="LabelAgreement"/> the check applied.</summary>
    public required double MinLabelAgreementAllowed { get; init; }

    /// <summary>The share of texts whose top label is the same.</summary>
    public double LabelAgreement => Texts == 0 ? 1 : (double)LabelsAgreeing / Texts;

    /// <summary>Whether both figures are within the limits.</summary>
    public bool Passed => MaxProbabilityChange <= MaxProbabilityChangeAllowed && LabelAgreement >= MinLabelAgreementAllowed;

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"max probability change {MaxProbabilityChange:F3} (allowed {MaxProbabilityChangeAllowed:F3}), mean {MeanProbabilityChange:F4}, labels equal on {LabelsAgreeing}/{Texts} ({LabelAgreement:P1}, at least {MinLabelAgreementAllowed:P1} required)");

    /// <summary>Compares <paramref name="int8"/> with <paramref name="float32"/>, text by text.</summary>
    /// <exception cref="InvalidDataException">The scorer returned another number of texts or of probabilities per text.</exception>
    internal static OnnxQualityReport Compare(IReadOnlyList<string> texts, IReadOnlyList<float[]> float32, IReadOnlyList<float[]> int8, OnnxQualityCheck check)
    {
        if (float32.Count != texts.Count || int8.Count != texts.Count)
        {
            throw new InvalidDataException($"The quality check's scorer returned {float32.Count} (float32) and {int8.Count} (int8) score vectors for {texts.Count} texts.");
        }

        double max = 0, sum = 0;
        int agreeing = 0, worst = 0;
        for (int i = 0; i < texts.Count; i++)
        {
            float[] a = float32[i], b = int8[i];
            if (a.Length != b.Length || a.Length == 0)
            {
                throw new InvalidDataException($"The quality check's scorer returned {a.Length} (float32) and {b.Length} (int8) scores for text #{i}.");
            }

            double change = 0;
            for (int j = 0; j < a.Length; j++)
            {
                change = Math.Max(change, Math.Abs((double)a[j] - b[j]));
            }

            sum += change;
            if (change > max)
            {
                (max, worst) = (change, i);
            }

            agreeing += VectorMath.ArgMax(a) == VectorMath.ArgMax(b) ? 1 : 0;
        }

        return new OnnxQualityReport
        {
            Texts = texts.Count,
            MaxProbabilityChange = max,
            MeanProbabilityChange = sum / texts.Count,
            LabelsAgreeing = agreeing,
            WorstText = texts[worst],
            MaxProbabilityChangeAllowed = check.MaxProbabilityChange,
            MinLabelAgreementAllowed = check.MinLabelAgreement,
        };
    }
}
