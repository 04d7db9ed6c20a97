using Bert.Sharp;

namespace ClassifierApi;

/// <summary><c>POST /classify</c> and <c>POST /classify/batch</c>.</summary>
internal static class ClassifyEndpoints
{
    public static void MapClassifyEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/classify", ClassifyAsync)
            .WithName("Classify")
            .WithSummary("Classifies one text.")
            .WithDescription("Body `{\"text\": \"...\"}`; returns the label, its probability and every label's probability. 400 for malformed JSON or an empty text, 503 with Retry-After when the queue is full.")
            .Accepts<ClassifyRequest>("application/json")
            .Produces<ClassificationResult>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        app.MapPost("/classify/batch", ClassifyBatchAsync)
            .WithName("ClassifyBatch")
            .WithSummary("Classifies several texts.")
            .WithDescription("Body `{\"texts\": [\"...\", ...]}` with 1 to 64 texts (configurable: ClassifierApi:MaxBatchTexts), none empty; returns `{\"predictions\": [...]}` in request order. The texts share server-side batches with other requests.")
            .Accepts<ClassifyBatchRequest>("application/json")
            .Produces<BatchClassificationResult>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<IResult> ClassifyAsync(HttpContext context, ITextClassifier classifier, ApiLimits limits, CancellationToken cancellationToken)
    {
        (ClassifyRequest? request, IResult? problem) = await JsonBody.ReadAsync<ClassifyRequest>(context.Request, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (string.IsNullOrWhiteSpace(request!.Text))
        {
            return Problems.BadRequest(request.Text is null ? "'text' is required: send {\"text\": \"...\"}." : "'text' is empty or white space; there is nothing to classify.");
        }

        if (request.Text.Length > limits.MaxBatchCharacters)
        {
            return Problems.TooLarge(request.Text.Length, limits);
        }

        try
        {
            Prediction prediction = await classifier.PredictAsync(request.Text, cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(ClassificationResult.From(prediction));
        }
        catch (Exception e) when (e is QueueFullException or ObjectDisposedException)
        {
            return Problems.Busy(context, limits, e.Message);
        }
    }

    private static async Task<IResult> ClassifyBatchAsync(HttpContext context, ITextClassifier classifier, ApiLimits limits, CancellationToken cancellationToken)
    {
        (ClassifyBatchRequest? request, IResult? problem) = await JsonBody.ReadAsync<ClassifyBatchRequest>(context.Request, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        IReadOnlyList<string?>? texts = request!.Texts;
        if (texts is null || texts.Count == 0 || texts.Count > limits.MaxBatchTexts)
        {
            return Problems.BadRequest($"'texts' must hold 1 to {limits.MaxBatchTexts} texts; it holds {texts?.Count ?? 0}. Split larger batches.");
        }

        for (int i = 0; i < texts.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(texts[i]))
            {
                return Problems.BadRequest($"'texts[{i}]' is missing, empty or white space; there is nothing to classify.");
            }
        }

        long characters = texts.Sum(t => (long)t!.Length);
        if (characters > limits.MaxBatchCharacters)
        {
            return Problems.TooLarge(characters, limits);
        }

        try
        {
            IReadOnlyList<Prediction> predictions = await classifier.PredictBatchAsync(texts!, cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(new BatchClassificationResult([.. predictions.Select(ClassificationResult.From)]));
        }
        catch (Exception e) when (e is QueueFullException or ObjectDisposedException)
        {
            return Problems.Busy(context, limits, e.Message);
        }
    }
}
