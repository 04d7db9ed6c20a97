namespace Bert.Sharp;

/// <summary>
/// Names of the <see cref="System.Diagnostics.Metrics"/> instruments that serving publishes, following OpenTelemetry's
/// naming conventions (durations in seconds). Subscribe with <c>AddMeter(ServingMetrics.MeterName)</c> in OpenTelemetry,
/// or <c>dotnet-counters monitor --counters Bert.Sharp.Serving</c>.
/// </summary>
/// <remarks>Every measurement carries the tag <see cref="BatcherNameTag"/> (the batcher's <see cref="MicroBatcherOptions.Name"/>).</remarks>
public static class ServingMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Bert.Sharp.Serving";

    /// <summary>Counter of requests accepted into the queue (<c>{request}</c>).</summary>
    public const string Requests = "bert_sharp.serving.requests";

    /// <summary>Counter of requests refused because the queue was full (<c>{request}</c>).</summary>
    public const string RejectedRequests = "bert_sharp.serving.rejected_requests";

    /// <summary>Up-down counter of requests waiting in the queue (<c>{request}</c>); the running batch is not counted.</summary>
    public const string QueueLength = "bert_sharp.serving.queue.length";

    /// <summary>Histogram of the requests per batch (<c>{request}</c>).</summary>
    public const string BatchSize = "bert_sharp.serving.batch.size";

    /// <summary>Histogram of the time one batch takes to run (seconds).</summary>
    public const string BatchDuration = "bert_sharp.serving.batch.duration";

    /// <summary>Histogram of the time a request waits in the queue before its batch starts (seconds).</summary>
    public const string QueueDuration = "bert_sharp.serving.queue.duration";

    /// <summary>
    /// Histogram of a request's whole latency, queue wait plus run (seconds). Failed and cancelled requests carry the
    /// tag <see cref="ErrorTypeTag"/> (the exception's type name).
    /// </summary>
    public const string RequestDuration = "bert_sharp.serving.request.duration";

    /// <summary>Tag naming the batcher.</summary>
    public const string BatcherNameTag = "bert_sharp.batcher.name";

    /// <summary>Tag with the exception type of a failed or cancelled request (OpenTelemetry's <c>error.type</c>).</summary>
    public const string ErrorTypeTag = "error.type";
}
