using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Bert.Sharp.Hosting;

/// <summary>
/// Healthy when the classifier is loaded and its queue has room; Degraded when the queue holds at least
/// <see cref="BertServiceOptions.DegradedQueueRatio"/> of its capacity (the service is overloaded: requests
/// wait long or are refused); Unhealthy when the model cannot be loaded or the classifier was disposed.
/// </summary>
internal sealed class TextClassifierHealthCheck(IServiceProvider services, IOptions<TextClassifierServiceOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ITextClassifier classifier;
        try
        {
            classifier = services.GetRequiredService<ITextClassifier>();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The model could not be loaded: say why, whatever the loader threw.
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, $"The text classifier could not be loaded: {e.Message}", e));
        }

        var data = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["labels"] = classifier.Labels.Count,
            ["batching"] = classifier is BatchingTextClassifier,
        };
        if (classifier is not BatchingTextClassifier batching)
        {
            return Task.FromResult(HealthCheckResult.Healthy($"Model loaded ({classifier.Labels.Count} labels); batching off.", data));
        }

        if (batching.IsDisposed)
        {
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, "The text classifier was disposed.", data: data));
        }

        int length = batching.QueueLength;
        int capacity = batching.Options.QueueCapacity;
        data["queueLength"] = length;
        data["queueCapacity"] = capacity;
        string queue = $"{length} of {capacity} queue places taken";
        return Task.FromResult(length >= options.Value.DegradedQueueRatio * capacity
            ? HealthCheckResult.Degraded($"Model loaded but the request queue is nearly full: {queue}.", data: data)
            : HealthCheckResult.Healthy($"Model loaded ({classifier.Labels.Count} labels); {queue}.", data));
    }
}
