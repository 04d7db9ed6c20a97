namespace Bert.Sharp.TokenClassification;

/// <summary>Entity-level precision, recall and F1 for one type or one average.</summary>
/// <param name="Precision">Correct entities over predicted entities; 0 when nothing was predicted.</param>
/// <param name="Recall">Correct entities over true entities; 0 when there are none.</param>
/// <param name="F1">Harmonic mean of precision and recall; 0 when both are 0.</param>
/// <param name="Support">True entities.</param>
/// <param name="Predicted">Predicted entities.</param>
/// <param name="Correct">Predicted entities that match a true one exactly (type, start and end).</param>
internal sealed record EntityScores(double Precision, double Recall, double F1, int Support, int Predicted, int Correct);
