using Microsoft.Extensions.AI;

namespace Bert.Sharp.Hosting;

/// <summary>
/// The <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> that <c>AddSentenceEmbedder</c> registers: Microsoft.Extensions.AI's
/// view of the registered <see cref="ISentenceEmbedder"/> (through its batching queue when batching is on). It does
/// not own the embedder: the container disposes that.
/// </summary>
internal sealed class SentenceEmbeddingGenerator(ISentenceEmbedder embedder, string modelId) : IEmbeddingGenerator<string, Embedding<float>>
{
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        string[] texts = [.. values];
        IReadOnlyList<float[]> vectors = embedder is BatchingSentenceEmbedder batching
            ? await batching.EmbedAsync(texts, cancellationToken).ConfigureAwait(false)
            : await Task.Run(() => embedder.Embed(texts), cancellationToken).ConfigureAwait(false);
        DateTimeOffset created = DateTimeOffset.UtcNow;
        return new GeneratedEmbeddings<Embedding<float>>(vectors.Select(v => new Embedding<float>(v) { ModelId = modelId, CreatedAt = created }));
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(EmbeddingGeneratorMetadata))
        {
            return new EmbeddingGeneratorMetadata("Bert.Sharp", null, modelId, embedder.Dimensions);
        }

        return serviceType.IsInstanceOfType(embedder) ? embedder : serviceType.IsInstanceOfType(this) ? this : null;
    }

    public void Dispose()
    {
        // The embedder belongs to the container.
    }
}
