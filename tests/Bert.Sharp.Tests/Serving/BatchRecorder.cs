using System.Collections.Concurrent;

namespace Bert.Sharp.Tests.Serving;

/// <summary>
/// A batch function for tests: maps each request, records every batch it was given, and can hold a batch until the
/// test releases it, so a test knows exactly what is queued behind a running batch (no timing involved).
/// </summary>
internal sealed class BatchRecorder<TRequest, TResult>(Func<TRequest, TResult> map) : IDisposable
{
    private readonly ManualResetEventSlim released = new(true);
    private TaskCompletionSource heldBatchStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Every batch in the order it ran.</summary>
    public ConcurrentQueue<TRequest[]> Batches { get; } = new();

    /// <summary>Completes when the held batch has started (after <see cref="Hold"/>).</summary>
    public Task HeldBatchStarted => heldBatchStarted.Task;

    /// <summary>The next batch blocks until <see cref="Release"/>.</summary>
    public void Hold()
    {
        heldBatchStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        released.Reset();
    }

    public void Release() => released.Set();

    public IReadOnlyList<TResult> Run(IReadOnlyList<TRequest> batch)
    {
        Batches.Enqueue([.. batch]);
        heldBatchStarted.TrySetResult();
        released.Wait();
        return [.. batch.Select(map)];
    }

    public void Dispose() => released.Dispose();
}
