using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Hosting;

/// <summary>
/// Coalesces concurrent embedding requests into batches (a <see cref="MicroBatcher{TRequest, TResult}"/> in front of
/// <see cref="ISentenceEmbedder.Embed"/>), as <see cref="BatchingTextClassifier"/> does for text classifiers. Disposes
/// the inner embedder when it is disposable.
/// </summary>
internal sealed class BatchingSentenceEmbedder : ISentenceEmbedder, IAsyncDisposable, IDisposable
{
    private readonly MicroBatcher<string, float[]> batcher;
    private int disposed;

    public BatchingSentenceEmbedder(ISentenceEmbedder inner, MicroBatcherOptions options, ILogger logger, IMeterFactory? meterFactory)
    {
        Inner = inner;
        batcher = new MicroBatcher<string, float[]>(texts => inner.Embed(texts), options, static text => text.Length, logger, meterFactory);
    }

    public ISentenceEmbedder Inner { get; }

    public MicroBatcher<string, float[]> Batcher => batcher;

    public int Dimensions => Inner.Dimensions;

    public float[][] Embed(IReadOnlyList<string> texts) => [.. EmbedAsync(texts).GetAwaiter().GetResult()];

    public Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        for (int i = 0; i < texts.Count; i++)
        {
            if (texts[i] is null)
            {
                throw new ArgumentException($"Text #{i} is null.", nameof(texts));
            }
        }

        return batcher.EnqueueManyAsync(texts, cancellationToken);
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        await batcher.DisposeAsync().ConfigureAwait(false);
        (Inner as IDisposable)?.Dispose();
    }
}
