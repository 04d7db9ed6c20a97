using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Hosting;

/// <summary>
/// Coalesces concurrent token-classifier requests into batches (a <see cref="MicroBatcher{TRequest, TResult}"/> in
/// front of <see cref="ITokenClassifier.PredictBatch"/>), as <see cref="BatchingTextClassifier"/> does for text classifiers.
/// </summary>
internal sealed class BatchingTokenClassifier : ITokenClassifier, IAsyncDisposable
{
    private readonly MicroBatcher<string, IReadOnlyList<Entity>> batcher;
    private int disposed;

    public BatchingTokenClassifier(ITokenClassifier inner, MicroBatcherOptions options, ILogger logger, IMeterFactory? meterFactory)
    {
        Inner = inner;
        batcher = new MicroBatcher<string, IReadOnlyList<Entity>>(inner.PredictBatch, options, static text => text.Length, logger, meterFactory);
    }

    public ITokenClassifier Inner { get; }

    public MicroBatcher<string, IReadOnlyList<Entity>> Batcher => batcher;

    public IReadOnlyList<string> Labels => Inner.Labels;

    public IReadOnlyList<Entity> Predict(string text) => PredictAsync(text).GetAwaiter().GetResult();

    public IReadOnlyList<IReadOnlyList<Entity>> PredictBatch(IReadOnlyList<string> texts) => PredictBatchAsync(texts).GetAwaiter().GetResult();

    public Task<IReadOnlyList<Entity>> PredictAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return batcher.EnqueueAsync(text, cancellationToken);
    }

    public Task<IReadOnlyList<IReadOnlyList<Entity>>> PredictBatchAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
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
        Inner.Dispose();
    }
}
