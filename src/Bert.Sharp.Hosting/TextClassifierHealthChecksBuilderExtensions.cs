using Bert.Sharp.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the text classifier's health check.</summary>
public static class TextClassifierHealthChecksBuilderExtensions
{
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
