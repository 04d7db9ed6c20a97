using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Bert.Sharp.Hosting;

/// <summary>
/// The handlers of <c>MapTextClassifier</c>: JSON in, the request limits of <see cref="BertServiceOptions"/> checked
/// before the model runs, problem details for every caller mistake (never a 500).
/// </summary>
internal static class TextClassifierEndpoints
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    internal sealed record TextRequest(string? Text, string? TextPair);

    internal sealed record TextsRequest(IReadOnlyList<string?>? Texts);

    public static async Task<IResult> ClassifyAsync(HttpContext context, string? serviceKey)
    {
        (TextRequest? request, IResult? problem) = await ReadAsync<TextRequest>(context.Request).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (request!.Text is null)
        {
            return Problem(StatusCodes.Status400BadRequest, "'text' is required: send {\"text\": \"...\"}.");
        }

        BertServiceOptions options = OptionsOf(context, serviceKey);
        long characters = (long)request.Text.Length + (request.TextPair?.Length ?? 0);
        if (characters > options.MaxCharactersPerRequest)
        {
            return TooLarge(characters, options);
        }

        ITextClassifier classifier = ClassifierOf(context, serviceKey);
        try
        {
            Prediction prediction = request.TextPair is null
                ? await classifier.PredictAsync(request.Text, context.RequestAborted).ConfigureAwait(false)
                : await Task.Run(() => classifier.Predict(request.Text, request.TextPair), context.RequestAborted).ConfigureAwait(false);
            return TypedResults.Ok(prediction);
        }
        catch (Exception e) when (e is QueueFullException or ObjectDisposedException)
        {
            return Busy(context, e.Message);
        }
    }

    public static async Task<IResult> ClassifyBatchAsync(HttpContext context, string? serviceKey)
    {
        (TextsRequest? request, IResult? problem) = await ReadAsync<TextsRequest>(context.Request).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        BertServiceOptions options = OptionsOf(context, serviceKey);
        IReadOnlyList<string?>? texts = request!.Texts;
        if (texts is null)
        {
            return Problem(StatusCodes.Status400BadRequest, "'texts' is required: send {\"texts\": [\"...\", ...]}.");
        }

        if (texts.Count == 0 || texts.Count > options.MaxTextsPerRequest)
        {
            return Problem(StatusCodes.Status400BadRequest, $"'texts' must hold 1 to {options.MaxTextsPerRequest} texts ({options.GetType().Name}.{nameof(options.MaxTextsPerRequest)}); it holds {texts.Count}.");
        }

        long characters = 0;
        for (int i = 0; i < texts.Count; i++)
        {
            if (texts[i] is not { } text)
            {
                return Problem(StatusCodes.Status400BadRequest, $"'texts[{i}]' is missing or null.");
            }

            characters += text.Length;
        }

        if (characters > options.MaxCharactersPerRequest)
        {
            return TooLarge(characters, options);
        }

        ITextClassifier classifier = ClassifierOf(context, serviceKey);
        try
        {
            IReadOnlyList<Prediction> predictions = await classifier.PredictBatchAsync(texts!, context.RequestAborted).ConfigureAwait(false);
            return TypedResults.Ok(new { predictions });
        }
        catch (Exception e) when (e is QueueFullException or ObjectDisposedException)
        {
            return Busy(context, e.Message);
        }
    }

    private static TextClassifierServiceOptions OptionsOf(HttpContext context, string? serviceKey) =>
        context.RequestServices.GetRequiredService<IOptionsMonitor<TextClassifierServiceOptions>>().Get(ServedModelRegistration.OptionsName(serviceKey));

    private static ITextClassifier ClassifierOf(HttpContext context, string? serviceKey) => serviceKey is null
        ? context.RequestServices.GetRequiredService<ITextClassifier>()
        : context.RequestServices.GetRequiredKeyedService<ITextClassifier>(serviceKey);

    private static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request)
        where T : class
    {
        if (!request.HasJsonContentType())
        {
            return (null, Problem(StatusCodes.Status415UnsupportedMediaType, "Send the body as JSON with 'Content-Type: application/json'."));
        }

        try
        {
            T? value = await request.ReadFromJsonAsync<T>(Json, request.HttpContext.RequestAborted).ConfigureAwait(false);
            return value is null ? (null, Problem(StatusCodes.Status400BadRequest, "The body is JSON null; send an object.")) : (value, null);
        }
        catch (JsonException e)
        {
            return (null, Problem(StatusCodes.Status400BadRequest, $"The body is not valid JSON for this endpoint: {e.Message}"));
        }
        catch (BadHttpRequestException e)
        {
            return (null, Problem(e.StatusCode, e.Message));
        }
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult TooLarge(long characters, BertServiceOptions options) => Problem(StatusCodes.Status413PayloadTooLarge,
        $"The request's texts hold {characters} characters; the limit is {options.MaxCharactersPerRequest} ({options.GetType().Name}.{nameof(options.MaxCharactersPerRequest)}).");

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Busy(HttpContext context, string detail)
    {
        context.Response.Headers.RetryAfter = "1";
        return Problem(StatusCodes.Status503ServiceUnavailable, detail);
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status);
}
