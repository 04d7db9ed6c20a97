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

    /// <summary>
    /// Maps <c>POST {pattern}</c> (body <c>{"text": "...", "textPair": null}</c>, answer the <see cref="Bert.Sharp.Prediction"/>)
    /// and <c>POST {pattern}/batch</c> (body <c>{"texts": [...]}</c>, answer <c>{"predictions": [...]}</c> in order) for
    /// the registered <see cref="Bert.Sharp.ITextClassifier"/> (keyed when <paramref name="serviceKey"/> is given). Caller
    /// mistakes are problem details, checked before the model runs: missing or null text (or a null entry of
    /// <c>texts</c>, its index named), malformed JSON → 400; more than <see cref="BertServiceOptions.MaxTextsPerRequest"/>
    /// texts → 400; more than <see cref="BertServiceOptions.MaxCharactersPerRequest"/> characters → 413; not JSON → 415;
    /// queue full → 503 with <c>Retry-After: 1</c>.
    /// </summary>
    /// <param name="endpoints">The application.</param>
    /// <param name="pattern">The route, <c>/classify</c> by default.</param>
    /// <param name="serviceKey">The key of a classifier registered with <c>AddKeyedTextClassifier</c>; <c>null</c> for the default one.</param>
    /// <returns>The group's builder (to add authorization, rate limiting, ...).</returns>
    public static RouteGroupBuilder MapTextClassifier(this IEndpointRouteBuilder endpoints, string pattern = "/classify", string? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        RouteGroupBuilder group = endpoints.MapGroup(pattern);
        Func<Microsoft.AspNetCore.Http.HttpContext, Task<Microsoft.AspNetCore.Http.IResult>> classify = context => TextClassifierEndpoints.ClassifyAsync(context, serviceKey);
        Func<Microsoft.AspNetCore.Http.HttpContext, Task<Microsoft.AspNetCore.Http.IResult>> batch = context => TextClassifierEndpoints.ClassifyBatchAsync(context, serviceKey);
        group.MapPost(string.Empty, classify);
        group.MapPost("/batch", batch);
        return group;
    }
}
