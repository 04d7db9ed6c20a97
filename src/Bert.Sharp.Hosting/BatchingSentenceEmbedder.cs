using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Hosting;

/// <summary>
/// Coalesces concurrent embedding requests into batches (a <see cref="MicroBatcher{TRequest, TResult}"/> in front of
/// <see cref="ISentenceEmbedder.Embed"/>), as <see cref="BatchingTextClassifier"/> does for text classifiers. Disposes
/// the inner embedder when it is disposable.
/// </summary>
internal sealed class BatchingSentenceEmbedder(ISentenceEmbedder inner, MicroBatcherOptions options, ILogger logger, IMeterFactory? meterFactory)
    : BatchedModel<ISentenceEmbedder, float[]>(inner, texts => inner.Embed(texts), options, logger, meterFactory), ISentenceEmbedder
{
    public int Dimensions => Inner.Dimensions;

    public float[][] Embed(IReadOnlyList<string> texts) => [.. EmbedAsync(texts).GetAwaiter().GetResult()];

    public Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) => EnqueueManyAsync(texts, cancellationToken);
}
