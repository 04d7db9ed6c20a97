using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Bert.Sharp;

/// <summary>The instruments of one <see cref="MicroBatcher{TRequest, TResult}"/>, every measurement tagged with its name.</summary>
internal sealed class MicroBatcherMetrics : IDisposable
{
    private static readonly IReadOnlyList<double> SecondsBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
    private static readonly IReadOnlyList<int> SizeBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

    private readonly Meter meter;
    private readonly bool ownsMeter;
    private readonly KeyValuePair<string, object?> nameTag;
    private readonly Counter<long> requests;
    private readonly Counter<long> rejected;
    private readonly UpDownCounter<long> queueLength;
    private readonly Histogram<int> batchSize;
    private readonly Histogram<double> batchDuration;
    private readonly Histogram<double> queueDuration;
    private readonly Histogram<double> requestDuration;

    public MicroBatcherMetrics(string batcherName, IMeterFactory? meterFactory)
    {
        // A meter factory (from dependency injection) owns its meters and lets tests and hosts isolate them; without
        // one the batcher owns a meter of its own.
        ownsMeter = meterFactory is null;
        meter = meterFactory?.Create(new MeterOptions(ServingMetrics.MeterName)) ?? new Meter(ServingMetrics.MeterName);
        nameTag = new(ServingMetrics.BatcherNameTag, batcherName);
        requests = meter.CreateCounter<long>(ServingMetrics.Requests, "{request}", "Requests accepted into the queue.");
        rejected = meter.CreateCounter<long>(ServingMetrics.RejectedRequests, "{request}", "Requests refused because the queue was full.");
        queueLength = meter.CreateUpDownCounter<long>(ServingMetrics.QueueLength, "{request}", "Requests waiting in the queue.");
        batchSize = meter.CreateHistogram(ServingMetrics.BatchSize, "{request}", "Requests per batch.", tags: null,
            new InstrumentAdvice<int> { HistogramBucketBoundaries = SizeBuckets });
        batchDuration = CreateSeconds(ServingMetrics.BatchDuration, "Time one batch takes to run.");
        queueDuration = CreateSeconds(ServingMetrics.QueueDuration, "Time a request waits in the queue before its batch starts.");
        requestDuration = CreateSeconds(ServingMetrics.RequestDuration, "Latency of a request: queue wait plus run.");
    }

    public void Accepted(int count)
    {
        requests.Add(count, nameTag);
        queueLength.Add(count, nameTag);
    }

    public void Rejected(int count) => rejected.Add(count, nameTag);

    public void LeftQueue() => queueLength.Add(-1, nameTag);

    public void BatchRan(int size, TimeSpan duration)
    {
        batchSize.Record(size, nameTag);
        batchDuration.Record(duration.TotalSeconds, nameTag);
    }

    public void Waited(TimeSpan wait) => queueDuration.Record(wait.TotalSeconds, nameTag);

    public void Completed(TimeSpan latency, Exception? error)
    {
        if (error is null)
        {
            requestDuration.Record(latency.TotalSeconds, nameTag);
        }
        else
        {
            requestDuration.Record(latency.TotalSeconds, nameTag, new(ServingMetrics.ErrorTypeTag, error.GetType().FullName));
        }
    }

    public void Dispose()
    {
        if (ownsMeter)
        {
            meter.Dispose();
        }
    }

    private Histogram<double> CreateSeconds(string name, string description) =>
        meter.CreateHistogram(name, "s", description, tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });

    /// <summary>Seconds since a <see cref="Stopwatch.GetTimestamp"/> value.</summary>
    public static TimeSpan Since(long timestamp) => Stopwatch.GetElapsedTime(timestamp);
}
