namespace Bert.Sharp;

/// <summary>
/// How <see cref="SentenceEmbedder"/> and <see cref="BertForSentenceEmbedding"/> load a model and turn token states into one
/// vector. Pooling and normalisation default to what the folder's sentence-transformers files say (<c>modules.json</c>,
/// <c>1_Pooling/config.json</c>); without them, mean pooling and no normalisation.
/// </summary>
public sealed record SentenceEmbeddingOptions : InferenceOptions
{
    /// <summary>Mean, CLS or max pooling (<see cref="PoolingStrategy.Pooler"/> uses BERT's pooler); <c>null</c> reads the folder.</summary>
    public PoolingStrategy? Pooling { get; init; }

    /// <summary>Scale every vector to unit length (then a dot product is the cosine similarity); <c>null</c> reads the folder.</summary>
    public bool? Normalize { get; init; }

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        if (Pooling is PoolingStrategy p && !Enum.IsDefined(p))
        {
            throw new ArgumentException($"{nameof(Pooling)} {(int)p} is not a pooling strategy.");
        }
    }
}
