using System.Diagnostics.Metrics;
using Bert.Sharp.Inference;
using Microsoft.Extensions.Logging;

namespace Bert.Sharp;

/// <summary>
/// Serves an <see cref="ITextClassifier"/> to many concurrent callers by coalescing their single requests into batches
/// (a <see cref="MicroBatcher{TRequest, TResult}"/> in front of <see cref="ITextClassifier.PredictBatch"/>). Use it in a
/// web API or any service where requests arrive one text at a time from many threads: one forward of 32 texts costs far
/// less than 32 forwards of one, and only one forward runs at a time instead of all of them fighting for the cores.
/// </summary>
/// <remarks>
/// <para>
/// Every call goes through the queue, synchronous ones included (they block until their batch ran). Text pairs are not
/// batched (<see cref="ITextClassifier.PredictBatch"/> takes single texts): <see cref="Predict"/> with a pair calls the
/// inner classifier directly. Requests of a batch are ordered by length, so padding stays small.
/// </para>
/// <para>
/// Failures: <see cref="QueueFullException"/> when <see cref="MicroBatcherOptions.QueueCapacity"/> requests already wait;
/// <see cref="ObjectDisposedException"/> for requests still queued at disposal; an input that makes the inner classifier
/// throw fails only its own request. Disposing waits for the running batch, then disposes the inner classifier unless
/// it was created with <c>leaveOpen</c>.
/// </para>
/// </remarks>
public sealed class BatchingTextClassifier : ITextClassifier, IAsyncDisposable
{
    private readonly ITextClassifier inner;
    private readonly MicroBatcher<string, Prediction> batcher;
    private readonly bool leaveOpen;
    private int disposed;

    /// <summary>Wraps <paramref name="inner"/> and starts the batching worker.</summary>
    /// <param name="inner">The classifier that runs the batches (TorchSharp's <c>TextClassifier</c>, ONNX Runtime's, or a fake in tests).</param>
    /// <param name="options">Batch size, delay, queue capacity and the name used in metrics; <c>null</c> for the defaults.</param>
    /// <param name="logger">Receives the start-up line and warnings about failed batches.</param>
    /// <param name="meterFactory">Creates the <see cref="ServingMetrics.MeterName"/> meter (pass the host's); <c>null</c> makes one of its own.</param>
    /// <param name="leaveOpen"><c>true</c> to leave <paramref name="inner"/> undisposed when this object is disposed.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it.</exception>
    public BatchingTextClassifier(ITextClassifier inner, MicroBatcherOptions? options = null, ILogger<BatchingTextClassifier>? logger = null, IMeterFactory? meterFactory = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(inner);
        this.inner = inner;
        this.leaveOpen = leaveOpen;
        batcher = new MicroBatcher<string, Prediction>(inner.PredictBatch, options, static text => text.Length, logger, meterFactory);
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Labels => inner.Labels;

    /// <summary>The classifier that runs the batches.</summary>
    public ITextClassifier Inner => inner;

    /// <summary>The batching settings.</summary>
    public MicroBatcherOptions Options => batcher.Options;

    /// <summary>Requests waiting for a batch now (the running batch not counted).</summary>
    public int QueueLength => batcher.QueueLength;

    /// <summary>Whether the classifier was disposed.</summary>
    public bool IsDisposed => Volatile.Read(ref disposed) != 0;

    /// <summary>Requests in the batch running now (see <see cref="MicroBatcher{TRequest, TResult}.InFlight"/>).</summary>
    public int InFlight => batcher.InFlight;

    /// <summary>The last exception the inner classifier failed a request with, or <c>null</c> (see <see cref="MicroBatcher{TRequest, TResult}.LastError"/>).</summary>
    public Exception? LastError => batcher.LastError;

    /// <summary>When <see cref="LastError"/> happened (UTC), or <c>null</c>.</summary>
    public DateTimeOffset? LastErrorTime => batcher.LastErrorTime;

    /// <inheritdoc />
    /// <exception cref="QueueFullException">The queue is full.</exception>
    public Prediction Predict(string text, string? textPair = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        return textPair is null ? batcher.EnqueueAsync(text).GetAwaiter().GetResult() : inner.Predict(text, textPair);
    }

    /// <inheritdoc />
    /// <exception cref="QueueFullException">The queue has no room for all of <paramref name="texts"/>.</exception>
    public IReadOnlyList<Prediction> PredictBatch(IReadOnlyList<string> texts) => PredictBatchAsync(texts).GetAwaiter().GetResult();

    /// <inheritdoc />
    /// <remarks>Faults with <see cref="QueueFullException"/> when the queue is full.</remarks>
    public Task<Prediction> PredictAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return batcher.EnqueueAsync(text, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>The texts join the queue together (all or none) and may share batches with other callers.</remarks>
    /// <exception cref="ArgumentException">A text is null, or there are more texts than the queue's capacity.</exception>
    public Task<IReadOnlyList<Prediction>> PredictBatchAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        TextArguments.ThrowIfAnyNull(texts);

        if (texts.Count > batcher.Options.QueueCapacity)
        {
            throw new ArgumentException($"{texts.Count} texts exceed the queue capacity ({batcher.Options.QueueCapacity}) of '{batcher.Options.Name}'; split them or call the inner classifier directly.", nameof(texts));
        }

        return batcher.EnqueueManyAsync(texts, cancellationToken);
    }

    /// <summary>Fails queued requests, waits for the running batch, then disposes the inner classifier (unless left open).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            batcher.Dispose();
            DisposeInner();
        }
    }

    /// <summary>Fails queued requests, waits for the running batch, then disposes the inner classifier (unless left open).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            await batcher.DisposeAsync().ConfigureAwait(false);
            DisposeInner();
        }
    }

    private void DisposeInner()
    {
        if (!leaveOpen)
        {
            inner.Dispose();
        }
    }
}
