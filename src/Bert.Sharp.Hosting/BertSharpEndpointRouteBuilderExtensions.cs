using Bert.Sharp.Hosting;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps Bert.Sharp.Hosting's endpoints.</summary>
public static class BertSharpEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <paramref name="pattern"/> to the health checks, answered as JSON by <see cref="BertSharpHealthResponseWriter"/>
    /// (200 when Healthy or Degraded, 503 when Unhealthy). Add the models check with
    /// <c>services.AddHealthChecks().AddBertSharpModelsCheck()</c>.
    /// </summary>
    /// <param name="endpoints">The application.</param>
    /// <param name="pattern">The route, <c>/health</c> by default.</param>
    /// <returns>The endpoint's builder (to add authorization, host filters, ...).</returns>
    public static IEndpointConventionBuilder MapBertSharpHealthChecks(this IEndpointRouteBuilder endpoints, string pattern = "/health")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapHealthChecks(pattern, new HealthCheckOptions { ResponseWriter = BertSharpHealthResponseWriter.WriteAsync });
    }
}
