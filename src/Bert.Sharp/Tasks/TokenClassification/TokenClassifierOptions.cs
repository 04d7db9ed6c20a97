namespace Bert.Sharp;

/// <summary>How <see cref="TokenClassifier.FromPretrained"/> loads a token classifier and groups its predictions.</summary>
public sealed record TokenClassifierOptions : InferenceOptions
{
    /// <summary>
    /// How token predictions become entities (Hugging Face's <c>aggregation_strategy</c>). The default,
    /// <see cref="AggregationStrategy.First"/>, gives every word the label of its first piece — how Bert.Sharp trains by
    /// default (<c>FineTuningOptions.LabelAllTokens</c> off), so entities never end inside a word ("Ve" + "rizon");
    /// <see cref="AggregationStrategy.Simple"/> groups piece by piece and suits models trained with every piece labelled.
    /// Hugging Face's pipeline defaults to <see cref="AggregationStrategy.None"/>, one result per token.
    /// </summary>
    public AggregationStrategy Aggregation { get; init; } = AggregationStrategy.First;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        if (!Enum.IsDefined(Aggregation))
        {
            throw new ArgumentException($"{nameof(Aggregation)} {(int)Aggregation} is not an aggregation strategy.");
        }
    }
}
