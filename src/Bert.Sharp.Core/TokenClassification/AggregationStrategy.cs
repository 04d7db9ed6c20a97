namespace Bert.Sharp;

/// <summary>
/// How per-piece predictions become entities; the same five strategies, with the same results, as Hugging Face's
/// <c>TokenClassificationPipeline(aggregation_strategy=...)</c>.
/// </summary>
public enum AggregationStrategy
{
    /// <summary>No merging: one entity per word piece whose label is not <c>O</c>, named by its raw label (<c>B-PER</c>).</summary>
    None,

    /// <summary>
    /// Merges adjacent pieces whose labels have the same type, where the later one is not a <c>B-</c> label. Pieces of one
    /// word can end up in different entities (<c>Micro</c> as ORG, <c>##soft</c> as PER).
    /// </summary>
    Simple,

    /// <summary>Every word takes the label of its first piece, then words are merged as in <see cref="Simple"/>. The usual choice for models trained with labels on first pieces.</summary>
    First,

    /// <summary>Every word takes the label with the highest probability averaged over its pieces, then words are merged as in <see cref="Simple"/>.</summary>
    Average,

    /// <summary>Every word takes the label of its most confident piece, then words are merged as in <see cref="Simple"/>.</summary>
    Max,
}
