namespace Bert.Sharp.TokenClassification;

/// <summary>The numbers seqeval's <c>classification_report</c> and <c>accuracy_score</c> give.</summary>
/// <param name="PerType">Scores per entity type, in ordinal order of the type names; every type that occurs in the true or the predicted tags.</param>
/// <param name="Micro">Scores over all entities pooled (seqeval's default <c>f1_score</c>).</param>
/// <param name="Macro">Unweighted mean of the per-type precision, recall and F1.</param>
/// <param name="Weighted">Mean of the per-type precision, recall and F1 weighted by their support.</param>
/// <param name="Accuracy">Share of tokens whose predicted tag equals the true tag.</param>
internal sealed record EntityMetricsReport(
    IReadOnlyDictionary<string, EntityScores> PerType,
    EntityScores Micro,
    EntityScores Macro,
    EntityScores Weighted,
    double Accuracy);
