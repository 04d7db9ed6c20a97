namespace Bert.Sharp;

/// <summary>How <see cref="BertForSequenceClassification.FromPretrained(string, IReadOnlyList{string}?, ClassifierLoadOptions?)"/> builds the model.</summary>
public sealed record ClassifierLoadOptions : ModelLoadOptions
{
    /// <summary>What the head predicts; <c>null</c> reads <c>problem_type</c> from <c>config.json</c> (Hugging Face's rules when absent).</summary>
    public ProblemType? ProblemType { get; init; }

    /// <summary>How the head pools; <c>null</c> reads the config, else uses the pooler when the checkpoint has one and mean pooling otherwise.</summary>
    public PoolingStrategy? Pooling { get; init; }

    /// <summary>
    /// When the checkpoint's head has a different number of labels than asked for, replace it with a new head instead
    /// of failing (Hugging Face's <c>ignore_mismatched_sizes</c>).
    /// </summary>
    public bool IgnoreMismatchedSizes { get; init; }

    /// <summary>
    /// Seed of a new head's initial weights, so a run reproduces its numbers without touching torch's global generator;
    /// <c>null</c> draws them from the global generator (as Hugging Face does after <c>set_seed</c>).
    /// </summary>
    public int? Seed { get; init; }

    /// <summary>Load even when encoder weights are missing from the checkpoint (they stay random; logged). Off by default.</summary>
    public bool AllowMissingWeights { get; init; }
}
