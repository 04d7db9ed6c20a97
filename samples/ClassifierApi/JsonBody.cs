using System.Text.Json;

namespace ClassifierApi;

/// <summary>
/// Reads a JSON request body with errors a client can act on: the JSON error's position for malformed bodies (400),
/// the size limit (413), the expected content type (415).
/// </summary>
internal static class JsonBody
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        if (!request.HasJsonContentType())
        {
            return (null, Problems.Create(StatusCodes.Status415UnsupportedMediaType, "Send the body as JSON with 'Content-Type: application/json'."));
        }

        try
        {
            T? value = await request.ReadFromJsonAsync<T>(Options, cancellationToken).ConfigureAwait(false);
            return value is null ? (null, Problems.BadRequest("The body is JSON null; send an object.")) : (value, null);
        }
        catch (JsonException e)
        {
            return (null, Problems.BadRequest($"The body is not valid JSON for this endpoint: {e.Message}"));
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own refusals, such as a body over the size limit (413).
            return (null, Problems.Create(e.StatusCode, e.Message));
        }
    }
}
