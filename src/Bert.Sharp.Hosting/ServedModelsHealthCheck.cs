using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bert.Sharp.Hosting;

/// <summary>
/// One entry per registered model (default and keyed, every kind) in the check's data, keyed by the model's name:
/// kind, key, labels count (or dimensions), device, batching, queue length and capacity, in-flight requests, last
/// error. The check is the worst of the models: Unhealthy (or the failure status) when one cannot be loaded or was
/// disposed, Degraded when a queue is nearly full.
/// </summary>
internal sealed class ServedModelsHealthCheck(IServiceProvider services, IEnumerable<ServedModel> models) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        HealthStatus worst = HealthStatus.Healthy;
        var problems = new List<string>();
        foreach (ServedModel model in models)
        {
            BertServiceOptions options = model.Options(services);
            ServedModelHealth health = Describe(model, options);
            string name = data.ContainsKey(options.Name) ? $"{options.Name}#{data.Count}" : options.Name;
            data[name] = health;
            HealthStatus status = health.Status switch
            {
                "Unhealthy" => context.Registration.FailureStatus,
                "Degraded" => HealthStatus.Degraded,
                _ => HealthStatus.Healthy,
            };
            if (status < worst)
            {
                worst = status;
            }

            if (status != HealthStatus.Healthy)
            {
                problems.Add($"{name}: {health.Description}");
            }
        }

        string description = problems.Count == 0 ? $"{data.Count} model(s) loaded." : string.Join(" ", problems);
        return Task.FromResult(new HealthCheckResult(worst, description, data: data));
    }

    private ServedModelHealth Describe(ServedModel model, BertServiceOptions options)
    {
        object served;
        try
        {
            served = model.Resolve(services);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new ServedModelHealth(model.Kind, model.ServiceKey, options.Name, "Unhealthy", $"The {model.Kind} could not be loaded: {e.Message}",
                options.ModelDirectory, null, null, "unknown", options.EnableBatching, 0, options.QueueCapacity, 0, $"{e.GetType().Name}: {e.Message}", null);
        }

        (object inner, int queue, int capacity, int inFlight, Exception? error, DateTimeOffset? errorTime, bool disposed, bool batching) = served switch
        {
            BatchingTextClassifier b => ((object)b.Inner, b.QueueLength, b.Options.QueueCapacity, b.InFlight, b.LastError, b.LastErrorTime, b.IsDisposed, true),
            IBatchedModel q => (q.Inner, q.QueueLength, q.QueueCapacity, q.InFlight, q.LastError, q.LastErrorTime, q.IsDisposed, true),
            _ => (served, 0, options.QueueCapacity, 0, null, null, false, false),
        };
        int? labels = served switch
        {
            ITextClassifier c => c.Labels.Count,
            ITokenClassifier c => c.Labels.Count,
            _ => null,
        };
        int? dimensions = served is ISentenceEmbedder e2 ? e2.Dimensions : null;
        string status = disposed ? "Unhealthy" : batching && queue >= options.DegradedQueueRatio * capacity ? "Degraded" : "Healthy";
        string description = disposed ? $"The {model.Kind} was disposed."
            : batching ? $"{queue} of {capacity} queue places taken; {inFlight} in flight." : "Loaded; batching off.";
        return new ServedModelHealth(model.Kind, model.ServiceKey, options.Name, status, description, options.ModelDirectory, labels, dimensions, ModelDevice.Describe(inner),
            batching, queue, capacity, inFlight, error is null ? null : $"{error.GetType().Name}: {error.Message}", errorTime);
    }
}
