namespace ClassifierApi;

/// <summary>Problem-details responses (RFC 9457) with a message in <c>detail</c>.</summary>
internal static class Problems
{
    public static IResult BadRequest(string detail) => Create(StatusCodes.Status400BadRequest, detail);

    public static IResult Create(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status);

    /// <summary>413: the request's texts hold more characters than <see cref="ApiLimits.MaxBatchCharacters"/>; nothing was classified.</summary>
    public static IResult TooLarge(long characters, ApiLimits limits) => Create(StatusCodes.Status413PayloadTooLarge,
        $"The request's texts hold {characters} characters; the limit is {limits.MaxBatchCharacters} (ClassifierApi:MaxBatchCharacters). Send fewer or shorter texts.");

    /// <summary>503 with Retry-After: the queue is full (or the server is shutting down); the client should come back.</summary>
    public static IResult Busy(HttpContext context, ApiLimits limits, string detail)
    {
        context.Response.Headers.RetryAfter = limits.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Create(StatusCodes.Status503ServiceUnavailable, detail);
    }
}
