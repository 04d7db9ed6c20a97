namespace Bert.Sharp;

/// <summary>
/// What loading a checkpoint into a model matched and did not: keys the model has but the checkpoint lacks (they keep
/// their fresh initialisation), keys the checkpoint has but the model does not use, and keys whose shapes differ.
/// </summary>
/// <remarks>Inspect it after a non-strict load to decide whether the new weights (a classification head, say) are expected.</remarks>
/// <param name="MissingKeys">Model keys not found in the checkpoint; newly initialised.</param>
/// <param name="UnexpectedKeys">Checkpoint keys the model does not have; ignored.</param>
/// <param name="MismatchedShapes">One entry per key whose shapes differ: <c>key: checkpoint [a, b] vs model [c, d]</c>; not loaded.</param>
public sealed record LoadReport(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys, IReadOnlyList<string> MismatchedShapes)
{
    /// <summary>Whether every key matched in name and shape.</summary>
    public bool IsExactMatch => MissingKeys.Count == 0 && UnexpectedKeys.Count == 0 && MismatchedShapes.Count == 0;
}
