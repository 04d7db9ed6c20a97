using Bert.Sharp.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the health checks of the models registered with Bert.Sharp.Hosting: all of them, or the text classifier alone.</summary>
public static class BertSharpHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds one check over every model registered by <c>AddTextClassifier</c>, <c>AddTokenClassifier</c>,
    /// <c>AddSentenceEmbedder</c> and their keyed forms. Its data holds one entry per model, named after
    /// <see cref="BertServiceOptions.Name"/>: <c>kind</c>, <c>key</c>, <c>labels</c> (or <c>dimensions</c>),
    /// <c>device</c>, <c>batching</c>, <c>queueLength</c>, <c>queueCapacity</c>, <c>inFlight</c>, <c>lastError</c>,
    /// <c>lastErrorTime</c>, <c>status</c>. Degraded when a queue is nearly full; <paramref name="failureStatus"/>
    /// when a model cannot be loaded or was disposed. Serve it as JSON with <c>app.MapBertSharpHealthChecks()</c>.
    /// </summary>
    /// <param name="builder">The health checks builder (<c>services.AddHealthChecks()</c>).</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">Reported when a model cannot be loaded; <c>null</c> is Unhealthy.</param>
    /// <param name="tags">Tags to filter checks by.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static IHealthChecksBuilder AddBertSharpModelsCheck(this IHealthChecksBuilder builder, string name = "bert-sharp-models", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddCheck<ServedModelsHealthCheck>(name, failureStatus, tags ?? []);
    }

    /// <summary>
    /// Adds a check of the <see cref="Bert.Sharp.ITextClassifier"/> registered by <c>AddTextClassifier</c>: Healthy when
    /// the model is loaded and the queue has room, Degraded when the queue is nearly full
    /// (<see cref="BertServiceOptions.DegradedQueueRatio"/>), <paramref name="failureStatus"/> when the model
    /// cannot be loaded. Its data holds <c>queueLength</c> and <c>queueCapacity</c>.
    /// </summary>
    /// <param name="builder">The health checks builder (<c>services.AddHealthChecks()</c>).</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">Reported when the model cannot be loaded; <c>null</c> is Unhealthy.</param>
    /// <param name="tags">Tags to filter checks by (for example <c>ready</c>).</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static IHealthChecksBuilder AddTextClassifierCheck(this IHealthChecksBuilder builder, string name = "text-classifier", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddCheck<TextClassifierHealthCheck>(name, failureStatus, tags ?? []);
    }
}
