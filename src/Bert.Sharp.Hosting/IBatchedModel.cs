namespace Bert.Sharp.Hosting;

/// <summary>What the health check reads from any of hosting's batching queues, whatever the model behind it.</summary>
internal interface IBatchedModel
{
    /// <summary>The model behind the queue.</summary>
    object Inner { get; }

    /// <summary>Texts waiting.</summary>
    int QueueLength { get; }

    /// <summary>The queue's capacity.</summary>
    int QueueCapacity { get; }

    /// <summary>Texts in the batch being run.</summary>
    int InFlight { get; }

    /// <summary>The last batch's error, if any.</summary>
    Exception? LastError { get; }

    /// <summary>When <see cref="LastError"/> happened.</summary>
    DateTimeOffset? LastErrorTime { get; }

    /// <summary>Whether the queue was disposed.</summary>
    bool IsDisposed { get; }
}
