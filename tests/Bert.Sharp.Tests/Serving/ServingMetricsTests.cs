using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Bert.Sharp.Tests.Serving;

public class ServingMetricsTests
{
    /// <summary>Collects the measurements of the meters created by one meter factory (other tests' meters are ignored).</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener listener = new();

        public Recorder(IMeterFactory factory)
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == ServingMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<long>((i, value, tags, _) => Add(i, value, tags));
            listener.SetMeasurementEventCallback<int>((i, value, tags, _) => Add(i, value, tags));
            listener.SetMeasurementEventCallback<double>((i, value, tags, _) => Add(i, value, tags));
            listener.Start();
        }

        public ConcurrentQueue<(string Instrument, string? Unit, double Value, Dictionary<string, object?> Tags)> Measurements { get; } = new();

        public double[] Values(string instrument) => [.. Measurements.Where(m => m.Instrument == instrument).Select(m => m.Value)];

        public void Dispose() => listener.Dispose();

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
            Measurements.Enqueue((instrument.Name, instrument.Unit, value, new Dictionary<string, object?>(tags.ToArray())));
    }

    [Fact]
    public async Task Requests_rejections_queue_length_batch_sizes_and_latencies_are_measured()
    {
        await using ServiceProvider provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        IMeterFactory meters = provider.GetRequiredService<IMeterFactory>();
        using var recorder = new Recorder(meters);
        var fake = new FakeTextClassifier();
        var classifier = new BatchingTextClassifier(fake, new MicroBatcherOptions { Name = "sentiment", QueueCapacity = 3, MaxDelay = TimeSpan.Zero }, meterFactory: meters);

        fake.Hold();
        Task<Prediction> running = classifier.PredictAsync("running");
        await fake.HeldBatchStarted;
        Task<Prediction>[] queued = [.. Enumerable.Range(0, 3).Select(i => classifier.PredictAsync($"queued {i}"))];
        await Assert.ThrowsAsync<QueueFullException>(() => classifier.PredictAsync("refused"));
        fake.Release();
        await Task.WhenAll([running, .. queued]);
        await Assert.ThrowsAsync<InvalidDataException>(() => classifier.PredictAsync("throw"));
        await classifier.DisposeAsync();

        Assert.Equal([1, 1, 1, 1, 1], recorder.Values(ServingMetrics.Requests));
        Assert.Equal([1], recorder.Values(ServingMetrics.RejectedRequests));
        double[] queueChanges = recorder.Values(ServingMetrics.QueueLength);
        Assert.Equal(0, queueChanges.Sum());
        Assert.Equal(3, queueChanges.Select((_, i) => queueChanges.Take(i + 1).Sum()).Max());
        Assert.Equal([1, 3, 1], recorder.Values(ServingMetrics.BatchSize));
        Assert.Equal(3, recorder.Values(ServingMetrics.BatchDuration).Length);
        Assert.Equal(5, recorder.Values(ServingMetrics.QueueDuration).Length);
        Assert.Equal(5, recorder.Values(ServingMetrics.RequestDuration).Length);
        Assert.All(recorder.Values(ServingMetrics.RequestDuration), seconds => Assert.InRange(seconds, 0, 3600));

        Assert.All(recorder.Measurements, m => Assert.Equal("sentiment", m.Tags[ServingMetrics.BatcherNameTag]));
        Assert.All(recorder.Measurements.Where(m => m.Instrument.EndsWith(".duration", StringComparison.Ordinal)), m => Assert.Equal("s", m.Unit));
        var failed = Assert.Single(recorder.Measurements, m => m.Instrument == ServingMetrics.RequestDuration && m.Tags.ContainsKey(ServingMetrics.ErrorTypeTag));
        Assert.Equal(typeof(InvalidDataException).FullName, failed.Tags[ServingMetrics.ErrorTypeTag]);
    }

    [Fact]
    public async Task Without_a_meter_factory_the_batcher_publishes_on_a_meter_of_its_own()
    {
        string name = $"own-{Guid.NewGuid():N}";
        var counted = new ConcurrentQueue<long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == ServingMetrics.MeterName && instrument.Name == ServingMetrics.Requests)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == ServingMetrics.BatcherNameTag && (string?)tag.Value == name)
                {
                    counted.Enqueue(value);
                }
            }
        });
        listener.Start();
        await using (var classifier = new BatchingTextClassifier(new FakeTextClassifier(), new MicroBatcherOptions { Name = name }))
        {
            await classifier.PredictBatchAsync(["a", "b"]);
        }

        Assert.Equal(2, counted.Sum());
    }
}
