using System.Diagnostics.Metrics;
using Bert.Sharp.Inference;
using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Hosting;

/// <summary>
/// The batching queue that hosting puts in front of a token classifier or a sentence embedder: a
/// <see cref="MicroBatcher{TRequest, TResult}"/> over the model's batch call (texts in, one result per text), the checks
/// on the texts and the disposal (queue drained first, then the model), written once for both. Text classifiers have
/// the public <see cref="BatchingTextClassifier"/>.
/// </summary>
/// <typeparam name="TModel">The served model's interface.</typeparam>
/// <typeparam name="TResult">The result of one text.</typeparam>
internal abstract class BatchedModel<TModel, TResult> : IBatchedModel, IAsyncDisposable, IDisposable
    where TModel : class
{
    private readonly MicroBatcher<string, TResult> batcher;
    private int disposed;

    private protected BatchedModel(TModel inner, Func<IReadOnlyList<string>, IReadOnlyList<TResult>> runBatch, MicroBatcherOptions options, ILogger logger, IMeterFactory? meterFactory)
    {
        Inner = inner;
        batcher = new MicroBatcher<string, TResult>(runBatch, options, static text => text.Length, logger, meterFactory);
    }

    /// <summary>The model behind the queue.</summary>
    public TModel Inner { get; }

    /// <summary>The queue.</summary>
    public MicroBatcher<string, TResult> Batcher => batcher;

    object IBatchedModel.Inner => Inner;

    int IBatchedModel.QueueLength => batcher.QueueLength;

    int IBatchedModel.QueueCapacity => batcher.Options.QueueCapacity;

    int IBatchedModel.InFlight => batcher.InFlight;

    Exception? IBatchedModel.LastError => batcher.LastError;

    DateTimeOffset? IBatchedModel.LastErrorTime => batcher.LastErrorTime;

    bool IBatchedModel.IsDisposed => batcher.IsDisposed;

    /// <summary>Queues every text (none may be null) and completes with their results, in input order.</summary>
    public Task<IReadOnlyList<TResult>> EnqueueManyAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        TextArguments.ThrowIfAnyNull(texts);
        return batcher.EnqueueManyAsync(texts, cancellationToken);
    }

    /// <summary>Queues one text and completes with its result.</summary>
    public Task<TResult> EnqueueAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return batcher.EnqueueAsync(text, cancellationToken);
    }

    /// <summary>Drains the queue, then disposes the model.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Drains the queue, then disposes the model.</summary>
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
