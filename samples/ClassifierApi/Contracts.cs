using Bert.Sharp;

namespace ClassifierApi;

/// <summary>Body of <c>POST /classify</c>.</summary>
/// <param name="Text">The text to classify; must not be empty or white space.</param>
public sealed record ClassifyRequest(string? Text);

/// <summary>Body of <c>POST /classify/batch</c>.</summary>
/// <param name="Texts">The texts to classify, 1 to <see cref="ApiLimits.MaxBatchTexts"/> of them, none empty.</param>
public sealed record ClassifyBatchRequest(IReadOnlyList<string?>? Texts);

/// <summary>What the model says about one text.</summary>
/// <param name="Label">The most likely label.</param>
/// <param name="Score">Its probability.</param>
/// <param name="Probabilities">Every label's probability.</param>
public sealed record ClassificationResult(string Label, float Score, IReadOnlyDictionary<string, float> Probabilities)
{
    /// <summary>The API's view of a library prediction.</summary>
    public static ClassificationResult From(Prediction prediction)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        return new(prediction.Label, prediction.Score, prediction.Probabilities);
    }
}

/// <summary>Response of <c>POST /classify/batch</c>: one result per text, in request order.</summary>
/// <param name="Predictions">The results.</param>
public sealed record BatchClassificationResult(IReadOnlyList<ClassificationResult> Predictions);
