using System.Diagnostics;

namespace Bert.Sharp;

// The worker: gathers a batch, runs it, hands every caller its own outcome.
public sealed partial class MicroBatcher<TRequest, TResult>
{
    /// <summary>
    /// The worker's loop, on a thread of its own: its wake-ups never queue behind the thread pool's work (the HTTP
    /// requests it serves), which under load delayed a pool-based loop by tens of milliseconds per batch.
    /// </summary>
    private void Run()
    {
        var batch = new List<QueuedRequest<TRequest, TResult>>(options.MaxBatchSize);
        try
        {
            while (WaitForRequests(Timeout.InfiniteTimeSpan) == WaitOutcome.Ready)
            {
                TakeQueued(batch);
                if (batch.Count == 0)
                {
                    continue; // only requests cancelled while queued were there
                }

                if (batch.Count < options.MaxBatchSize && options.MaxDelay > TimeSpan.Zero)
                {
                    WaitForCompany(batch);
                }

                RunBatch(batch);
                batch.Clear();
            }
        }
        finally
        {
            // Disposed: the requests gathered for the next batch are failed.
            foreach (QueuedRequest<TRequest, TResult> item in batch)
            {
                item.Fail(DisposedError());
            }

            stopped.TrySetResult();
        }
    }

    private enum WaitOutcome
    {
        Ready,
        TimedOut,
        Stopped,
    }

    /// <summary>Blocks until a request is queued, <paramref name="timeout"/> passes, or the batcher is disposed.</summary>
    private WaitOutcome WaitForRequests(TimeSpan timeout)
    {
        if (stopping.IsCancellationRequested)
        {
            return WaitOutcome.Stopped;
        }

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
        ValueTask<bool> ready = queue.Reader.WaitToReadAsync(wait.Token);
        if (ready.IsCompletedSuccessfully)
        {
            return ready.Result ? WaitOutcome.Ready : WaitOutcome.Stopped;
        }

        Task<bool> task = ready.AsTask();
        try
        {
            if (!task.Wait(timeout))
            {
                wait.Cancel(); // withdraw the waiter from the channel
                return WaitOutcome.TimedOut;
            }

            return task.Result ? WaitOutcome.Ready : WaitOutcome.Stopped;
        }
        catch (AggregateException e) when (e.InnerException is OperationCanceledException)
        {
            return WaitOutcome.Stopped;
        }
    }

    /// <summary>Moves queued requests into <paramref name="batch"/> until it is full or the queue is empty.</summary>
    private void TakeQueued(List<QueuedRequest<TRequest, TResult>> batch)
    {
        while (batch.Count < options.MaxBatchSize && queue.Reader.TryRead(out QueuedRequest<TRequest, TResult>? item))
        {
            if (item.TryStart())
            {
                Release();
                batch.Add(item);
            }

            // Otherwise it was cancelled (or failed by disposal) while queued; its place is already free.
        }
    }

    /// <summary>Waits for more requests until the batch is full or its first request has waited <see cref="MicroBatcherOptions.MaxDelay"/>.</summary>
    private void WaitForCompany(List<QueuedRequest<TRequest, TResult>> batch)
    {
        long deadline = batch[0].EnqueuedTimestamp + (long)(options.MaxDelay.TotalSeconds * Stopwatch.Frequency);
        while (batch.Count < options.MaxBatchSize)
        {
            long remainingTicks = deadline - Stopwatch.GetTimestamp();
            if (remainingTicks <= 0 || WaitForRequests(TimeSpan.FromSeconds((double)remainingTicks / Stopwatch.Frequency)) != WaitOutcome.Ready)
            {
                return; // the delay is over, or disposal (RunBatch then fails the batch)
            }

            TakeQueued(batch);
        }
    }

    private void RunBatch(List<QueuedRequest<TRequest, TResult>> batch)
    {
        // Callers that gave up while the batch was gathered get nothing: do not spend a forward on them.
        batch.RemoveAll(item => item.IsAbandoned);
        if (batch.Count == 0)
        {
            return;
        }

        if (IsDisposed)
        {
            foreach (QueuedRequest<TRequest, TResult> item in batch)
            {
                item.Fail(DisposedError());
            }

            batch.Clear();
            return;
        }

        QueuedRequest<TRequest, TResult>[] ordered = lengthOf is null ? [.. batch] : [.. batch.OrderBy(item => lengthOf(item.Request))];
        long start = Stopwatch.GetTimestamp();
        foreach (QueuedRequest<TRequest, TResult> item in ordered)
        {
            metrics.Waited(Stopwatch.GetElapsedTime(item.EnqueuedTimestamp, start));
        }

        Volatile.Write(ref inFlight, ordered.Length);
        try
        {
            RunOrdered(ordered, start);
        }
        finally
        {
            Volatile.Write(ref inFlight, 0);
        }
    }

    private void RunOrdered(QueuedRequest<TRequest, TResult>[] ordered, long start)
    {
        IReadOnlyList<TResult> results;
        try
        {
            results = Process(ordered);
        }
        catch (Exception e) when (ordered.Length > 1)
        {
            // One bad input must not fail its neighbours: find it by running the requests one at a time.
            LogBatchFailed(logger, ordered.Length, options.Name, $"{e.GetType().Name}: {e.Message}");
            metrics.BatchRan(ordered.Length, Stopwatch.GetElapsedTime(start));
            foreach (QueuedRequest<TRequest, TResult> item in ordered)
            {
                RunAlone(item);
            }

            return;
        }
        catch (Exception e)
        {
            metrics.BatchRan(1, Stopwatch.GetElapsedTime(start));
            Complete(ordered[0], default!, e);
            return;
        }

        metrics.BatchRan(ordered.Length, Stopwatch.GetElapsedTime(start));
        for (int i = 0; i < ordered.Length; i++)
        {
            Complete(ordered[i], results[i], null);
        }
    }

    private void RunAlone(QueuedRequest<TRequest, TResult> item)
    {
        if (item.IsAbandoned)
        {
            return;
        }

        long start = Stopwatch.GetTimestamp();
        try
        {
            TResult result = Process([item])[0];
            metrics.BatchRan(1, Stopwatch.GetElapsedTime(start));
            Complete(item, result, null);
        }
        catch (Exception e)
        {
            metrics.BatchRan(1, Stopwatch.GetElapsedTime(start));
            Complete(item, default!, e);
        }
    }

    private IReadOnlyList<TResult> Process(QueuedRequest<TRequest, TResult>[] items)
    {
        TRequest[] requests = new TRequest[items.Length];
        for (int i = 0; i < items.Length; i++)
        {
            requests[i] = items[i].Request;
        }

        IReadOnlyList<TResult> results = processBatch(requests) ?? throw new InvalidOperationException($"The batch function of batcher '{options.Name}' returned null.");
        if (results.Count != requests.Length)
        {
            throw new InvalidOperationException($"The batch function of batcher '{options.Name}' returned {results.Count} results for {requests.Length} requests.");
        }

        return results;
    }

    private void Complete(QueuedRequest<TRequest, TResult> item, TResult result, Exception? error)
    {
        metrics.Completed(Stopwatch.GetElapsedTime(item.EnqueuedTimestamp), error);
        if (error is null)
        {
            item.Succeed(result);
        }
        else
        {
            if (error is not OperationCanceledException and not ObjectDisposedException)
            {
                Interlocked.Exchange(ref lastErrorTicks, DateTimeOffset.UtcNow.UtcTicks);
                Volatile.Write(ref lastError, error);
            }

            item.Fail(error);
        }
    }
}
