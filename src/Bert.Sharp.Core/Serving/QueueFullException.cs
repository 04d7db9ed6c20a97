namespace Bert.Sharp;

/// <summary>
/// A request was refused because the batcher's queue already holds <see cref="Capacity"/> waiting requests. The
/// service is overloaded, not broken: retry later (an HTTP API answers 503 with <c>Retry-After</c>).
/// </summary>
public sealed class QueueFullException : InvalidOperationException
{
    /// <summary>Creates the exception for a queue of <paramref name="capacity"/> requests.</summary>
    /// <param name="capacity">The queue's capacity.</param>
    /// <param name="name">The batcher's name.</param>
    public QueueFullException(int capacity, string name)
        : base($"The request queue of batcher '{name}' is full ({capacity} requests waiting); retry later or raise {nameof(MicroBatcherOptions)}.{nameof(MicroBatcherOptions.QueueCapacity)}.")
    {
        Capacity = capacity;
    }

    /// <summary>Creates the exception with a message of your own.</summary>
    public QueueFullException()
    {
    }

    /// <summary>Creates the exception with a message of your own.</summary>
    public QueueFullException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception of your own.</summary>
    public QueueFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>How many waiting requests the queue holds when full; 0 when unknown.</summary>
    public int Capacity { get; }
}
