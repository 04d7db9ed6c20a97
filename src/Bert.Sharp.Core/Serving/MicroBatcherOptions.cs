namespace Bert.Sharp;

/// <summary>
/// How a <see cref="MicroBatcher{TRequest, TResult}"/> coalesces concurrent requests into batches.
/// </summary>
/// <remarks>
/// The defaults suit a CPU with a few cores serving a small BERT: one batch runs at a time (a forward already uses every
/// core), a batch holds up to 32 requests, and nothing waits for company: under concurrent load the queue fills while a
/// batch runs, so the next batch is formed anyway. A <see cref="MaxDelay"/> of a few milliseconds helps when many
/// clients send sparse requests that would otherwise each run alone; on the 2-core benchmark machine 2 ms cost
/// throughput and sequential latency (docs/performance.md, Serving).
/// </remarks>
public sealed record MicroBatcherOptions
{
    /// <summary>The most requests one batch holds. Default 32.</summary>
    public int MaxBatchSize { get; init; } = 32;

    /// <summary>
    /// How long the first request of a batch may wait for more requests before the batch runs anyway; counted from the
    /// moment that request was queued, so requests that already waited behind a running batch do not wait again.
    /// <see cref="TimeSpan.Zero"/> (the default) runs whatever is queued as soon as the worker is free.
    /// </summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// The most requests that may wait (not counting the batch that runs); one more is refused with a
    /// <see cref="QueueFullException"/>. Default 1024.
    /// </summary>
    public int QueueCapacity { get; init; } = 1024;

    /// <summary>Names this batcher in metrics (tag <c>bert_sharp.batcher.name</c>) and logs. Default <c>default</c>.</summary>
    public string Name { get; init; } = "default";

    /// <summary>Checks every value; the message names the option at fault.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size or the delay is out of range.</exception>
    /// <exception cref="ArgumentException"><see cref="Name"/> is empty.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxBatchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(QueueCapacity);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxDelay, TimeSpan.Zero);
        // Timers take at most int.MaxValue milliseconds.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxDelay, TimeSpan.FromMilliseconds(int.MaxValue));
        ArgumentException.ThrowIfNullOrWhiteSpace(Name);
    }
}
