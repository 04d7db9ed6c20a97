using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bert.Sharp;

/// <summary>
/// Coalesces concurrent single requests into batches for a model that is faster per item in batches (a BERT forward of
/// 32 texts costs far less than 32 forwards of one). Callers await their own result; one worker runs one batch at a
/// time, so the model never competes with itself for the CPU.
/// </summary>
/// <typeparam name="TRequest">One request (a text, for a classifier).</typeparam>
/// <typeparam name="TResult">One result (a prediction).</typeparam>
/// <remarks>
/// <para>
/// Adaptive batching: when the worker is free it takes everything queued, up to <see cref="MicroBatcherOptions.MaxBatchSize"/>.
/// If that is less than a full batch it waits for company until the first request has been queued for
/// <see cref="MicroBatcherOptions.MaxDelay"/> (or the batch is full). Under load, requests pile up while a batch runs, so
/// the next batch starts at once, full.
/// </para>
/// <para>
/// Inside a batch, requests are ordered by their length (when a length function is given) so a padded forward wastes
/// little; every caller still gets its own result. A request cancelled while queued never runs and its task is
/// cancelled; one cancelled while its batch runs gets a cancelled task and the result is discarded. When a batch throws,
/// its requests are run one at a time so only the request at fault fails. The queue is bounded: a request beyond
/// <see cref="MicroBatcherOptions.QueueCapacity"/> fails with <see cref="QueueFullException"/>. Disposal fails the
/// requests still queued with <see cref="ObjectDisposedException"/> and waits for the running batch to finish.
/// </para>
/// </remarks>
public sealed partial class MicroBatcher<TRequest, TResult> : IDisposable, IAsyncDisposable
{
    private readonly Func<IReadOnlyList<TRequest>, IReadOnlyList<TResult>> processBatch;
    private readonly Func<TRequest, int>? lengthOf;
    private readonly MicroBatcherOptions options;
    private readonly ILogger logger;
    private readonly MicroBatcherMetrics metrics;
    private readonly Channel<QueuedRequest<TRequest, TResult>> queue;
    private readonly CancellationTokenSource stopping = new();
    private readonly Thread worker;
    private readonly TaskCompletionSource stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int waiting;
    private int disposed;
    private int inFlight;
    private Exception? lastError;
    private long lastErrorTicks;

    /// <summary>Starts a batcher and its worker.</summary>
    /// <param name="processBatch">Runs one batch: one result per request, in the same order. Called from one thread at a time.</param>
    /// <param name="options">Batch size, delay, queue capacity and name; <c>null</c> for the defaults.</param>
    /// <param name="lengthOf">The cost of one request (for texts, the character count); requests of a batch are sorted by it. <c>null</c> keeps arrival order.</param>
    /// <param name="logger">Receives the start-up line and warnings about failed batches.</param>
    /// <param name="meterFactory">Creates the <see cref="ServingMetrics.MeterName"/> meter (use the host's); <c>null</c> makes a meter of the batcher's own.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it.</exception>
    public MicroBatcher(Func<IReadOnlyList<TRequest>, IReadOnlyList<TResult>> processBatch, MicroBatcherOptions? options = null, Func<TRequest, int>? lengthOf = null,
        ILogger? logger = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(processBatch);
        options ??= new MicroBatcherOptions();
        options.Validate();
        this.processBatch = processBatch;
        this.options = options;
        this.lengthOf = lengthOf;
        this.logger = logger ?? NullLogger.Instance;
        metrics = new MicroBatcherMetrics(options.Name, meterFactory);
        // Unbounded channel, bounded by the waiting count: a request cancelled while queued frees its place at once,
        // even though the channel only forgets it when the worker reads past it.
        // Several readers: disposal drains the channel while the worker may still be reading it. Synchronous
        // continuations: a write wakes the blocked worker directly instead of through a thread-pool work item.
        queue = Channel.CreateUnbounded<QueuedRequest<TRequest, TResult>>(new UnboundedChannelOptions { SingleReader = false, AllowSynchronousContinuations = true });
        LogStarted(this.logger, options.Name, options.MaxBatchSize, options.MaxDelay.TotalMilliseconds, options.QueueCapacity);
        worker = new Thread(Run) { IsBackground = true, Name = $"Bert.Sharp batcher {options.Name}" };
        worker.Start();
    }

    /// <summary>The batching settings.</summary>
    public MicroBatcherOptions Options => options;

    /// <summary>Requests waiting in the queue now (the running batch not counted).</summary>
    public int QueueLength => Volatile.Read(ref waiting);

    /// <summary>Whether <see cref="Dispose"/> or <see cref="DisposeAsync"/> was called.</summary>
    public bool IsDisposed => Volatile.Read(ref disposed) != 0;

    /// <summary>Requests in the batch running now (0 between batches); with <see cref="QueueLength"/>, the work accepted and not yet answered.</summary>
    public int InFlight => Volatile.Read(ref inFlight);

    /// <summary>
    /// The last exception the batch function failed a request with (cancellations and disposal not counted), or
    /// <c>null</c> when none has failed; for health reports. A failure is kept until a later one replaces it.
    /// </summary>
    public Exception? LastError => Volatile.Read(ref lastError);

    /// <summary>When <see cref="LastError"/> happened (UTC); <c>null</c> when none has.</summary>
    public DateTimeOffset? LastErrorTime => Volatile.Read(ref lastError) is null ? null : new DateTimeOffset(Interlocked.Read(ref lastErrorTicks), TimeSpan.Zero);

    /// <summary>Queues one request and completes when its batch has run.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the wait; a request cancelled before its batch starts never runs.</param>
    /// <returns>The request's result. Faults with <see cref="QueueFullException"/> when the queue is full, with
    /// <see cref="ObjectDisposedException"/> after disposal, or with the exception the batch function threw for this request.</returns>
    public Task<TResult> EnqueueAsync(TRequest request, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<TResult>(cancellationToken);
        }

        if (IsDisposed)
        {
            return Task.FromException<TResult>(DisposedError());
        }

        if (!TryReserve(1))
        {
            return Task.FromException<TResult>(new QueueFullException(options.QueueCapacity, options.Name));
        }

        return Enqueue(request, cancellationToken).Completion.Task;
    }

    /// <summary>
    /// Queues several requests at once (all or none: the queue must have room for every one) and completes when all
    /// have run; they may be spread over several batches and share them with other callers.
    /// </summary>
    /// <param name="requests">The requests.</param>
    /// <param name="cancellationToken">Cancels the wait; requests not started yet never run.</param>
    /// <returns>The results in request order. Faults like <see cref="EnqueueAsync"/>, with the first failure among the requests.</returns>
    /// <exception cref="ArgumentException">More requests than the queue's capacity: they could never be queued together.</exception>
    public async Task<IReadOnlyList<TResult>> EnqueueManyAsync(IReadOnlyList<TRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (requests.Count > options.QueueCapacity)
        {
            throw new ArgumentException($"{requests.Count} requests exceed the queue capacity of batcher '{options.Name}' ({options.QueueCapacity}); split them.", nameof(requests));
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (IsDisposed)
        {
            throw DisposedError();
        }

        if (requests.Count == 0)
        {
            return [];
        }

        if (!TryReserve(requests.Count))
        {
            throw new QueueFullException(options.QueueCapacity, options.Name);
        }

        var tasks = new Task<TResult>[requests.Count];
        for (int i = 0; i < tasks.Length; i++)
        {
            tasks[i] = Enqueue(requests[i], cancellationToken).Completion.Task;
        }

        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    /// <summary>Fails the queued requests with <see cref="ObjectDisposedException"/> and waits for the running batch.</summary>
    /// <remarks>Do not call it from inside the batch function: it would wait for itself.</remarks>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Fails the queued requests with <see cref="ObjectDisposedException"/> and waits for the running batch.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            await stopped.Task.ConfigureAwait(false);
            return;
        }

        queue.Writer.TryComplete();
        await stopping.CancelAsync().ConfigureAwait(false);
        while (queue.Reader.TryRead(out QueuedRequest<TRequest, TResult>? item))
        {
            if (item.TryDrop())
            {
                Release();
                item.Fail(DisposedError());
            }
        }

        await stopped.Task.ConfigureAwait(false);
        stopping.Dispose();
        metrics.Dispose();
    }

    /// <summary>Takes <paramref name="count"/> places in the queue, or none if they are not all free.</summary>
    private bool TryReserve(int count)
    {
        if (Interlocked.Add(ref waiting, count) > options.QueueCapacity)
        {
            Interlocked.Add(ref waiting, -count);
            metrics.Rejected(count);
            return false;
        }

        metrics.Accepted(count);
        return true;
    }

    /// <summary>Gives back the place of a request that left the queue.</summary>
    private void Release()
    {
        Interlocked.Decrement(ref waiting);
        metrics.LeftQueue();
    }

    /// <summary>Queues a request whose place is already reserved.</summary>
    private QueuedRequest<TRequest, TResult> Enqueue(TRequest request, CancellationToken cancellationToken)
    {
        var item = new QueuedRequest<TRequest, TResult>(request);
        if (cancellationToken.CanBeCanceled)
        {
            item.Registration = cancellationToken.UnsafeRegister(static (state, token) =>
            {
                var (batcher, queued) = ((MicroBatcher<TRequest, TResult>, QueuedRequest<TRequest, TResult>))state!;
                if (queued.TryDrop())
                {
                    batcher.Release();
                }

                queued.Completion.TrySetCanceled(token);
            }, (this, item));
        }

        if (!queue.Writer.TryWrite(item) && item.TryDrop())
        {
            // Disposed between the check and the write.
            Release();
            item.Fail(DisposedError());
        }

        return item;
    }

    private ObjectDisposedException DisposedError() =>
        new($"MicroBatcher<{typeof(TRequest).Name}, {typeof(TResult).Name}>", $"Batcher '{options.Name}' was disposed; the request was not run.");

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Micro-batching {Name}: up to {MaxBatchSize} requests per batch, {MaxDelayMs} ms max delay, {QueueCapacity} requests max queued")]
    private static partial void LogStarted(ILogger logger, string name, int maxBatchSize, double maxDelayMs, int queueCapacity);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "A batch of {Count} requests of {Name} failed ({Error}); running them one at a time so only the failing request fails")]
    private static partial void LogBatchFailed(ILogger logger, int count, string name, string error);
}
