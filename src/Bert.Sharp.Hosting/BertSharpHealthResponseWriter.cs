using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bert.Sharp.Hosting;

/// <summary>
/// Writes a health report as JSON (<c>application/json</c>): <c>status</c>, <c>totalDurationMs</c>, and per check its
/// <c>status</c>, <c>description</c>, <c>durationMs</c>, <c>error</c> and <c>data</c> (for the models check, one
/// entry per model). Used by <c>MapBertSharpHealthChecks</c>; pass it as <c>HealthCheckOptions.ResponseWriter</c> to
/// use it elsewhere.
/// </summary>
public static class BertSharpHealthResponseWriter
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    /// <summary>Writes <paramref name="report"/> to the response.</summary>
    /// <param name="context">The request's context.</param>
    /// <param name="report">The health report.</param>
    /// <returns>A task that completes when the body is written.</returns>
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(report);
        var body = new
        {
            status = report.Status.ToString(),
            totalDurationMs = report.TotalDuration.TotalMilliseconds,
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description,
                durationMs = e.Value.Duration.TotalMilliseconds,
                error = e.Value.Exception?.Message,
                data = e.Value.Data,
            }, StringComparer.Ordinal),
        };
        return context.Response.WriteAsJsonAsync(body, Options, context.RequestAborted);
    }
}
