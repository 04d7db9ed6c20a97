namespace ClassifierApi;

/// <summary>Problem-details responses (RFC 9457) with a message in <c>detail</c>.</summary>
internal static class Problems
{
    public static IResult BadRequest(string detail) => Create(StatusCodes.Status400BadRequest, detail);

    public static IResult Create(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status);

    /// <summary>503 with Retry-After: the queue is full (or the server is shutting down); the client should come back.</summary>
    public static IResult Busy(HttpContext context, ApiLimits limits, string detail)
    {
        context.Response.Headers.RetryAfter = limits.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Create(StatusCodes.Status503ServiceUnavailable, detail);
    }
}
