using System.Diagnostics;

namespace Bert.Sharp;

/// <summary>
/// One request waiting in a <see cref="MicroBatcher{TRequest, TResult}"/>'s queue. Exactly one party moves it out of
/// the queue: the worker (<see cref="TryStart"/>), or a cancellation or disposal (<see cref="TryDrop"/>); the loser
/// of that race leaves it alone, so a request never runs after its caller was told it was cancelled while queued.
/// </summary>
internal sealed class QueuedRequest<TRequest, TResult>(TRequest request)
{
    private const int Queued = 0;
    private const int Started = 1;
    private const int Dropped = 2;
    private int state;

    public TRequest Request { get; } = request;

    public long EnqueuedTimestamp { get; } = Stopwatch.GetTimestamp();

    /// <summary>Continuations run on the thread pool, never inline on the worker that completes the request.</summary>
    public TaskCompletionSource<TResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public CancellationTokenRegistration Registration { get; set; }

    /// <summary>The caller already has an outcome (cancelled while the batch was being gathered).</summary>
    public bool IsAbandoned => Completion.Task.IsCompleted;

    public bool TryStart() => Interlocked.CompareExchange(ref state, Started, Queued) == Queued;

    public bool TryDrop() => Interlocked.CompareExchange(ref state, Dropped, Queued) == Queued;

    public void Succeed(TResult result)
    {
        Registration.Dispose();
        Completion.TrySetResult(result);
    }

    public void Fail(Exception error)
    {
        Registration.Dispose();
        Completion.TrySetException(error);
    }
}
