using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Bert.Sharp.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Bert.Sharp.Tests.Serving;

/// <summary>The ClassifierApi sample over real HTTP on loopback, serving a tiny random classifier (or a fake for the queue).</summary>
public sealed class ClassifierApiTests(ClassifierApiTests.Fixture fixture) : IClassFixture<ClassifierApiTests.Fixture>
{
    private HttpClient Client => fixture.Server.Client;

    private TextClassifier Reference => fixture.Reference;

    /// <summary>One server for the tests that only send requests (none of them changes its state).</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public ApiServer Server { get; private set; } = null!;

        public TextClassifier Reference { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            string dir = TinyClassifierFolder.Create();
            Server = await ApiServer.StartAsync(dir);
            Reference = TextClassifier.FromPretrained(dir);
        }

        public async Task DisposeAsync()
        {
            await Server.DisposeAsync();
            Reference.Dispose();
        }
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    private static async Task<string> ProblemDetailAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonElement problem = await ReadJsonAsync(response);
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem.GetProperty("detail").GetString()!;
    }

    [Fact]
    public async Task Classify_returns_the_label_its_score_and_every_probability()
    {
        using HttpResponseMessage response = await Client.PostAsJsonAsync("/classify", new { text = "This phone is fantastic, the battery lasts for days." });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement body = await ReadJsonAsync(response);
        Assert.Equal(["label", "score", "probabilities"], body.EnumerateObject().Select(p => p.Name));
        Prediction expected = Reference.Predict("This phone is fantastic, the battery lasts for days.");
        Assert.Equal(expected.Label, body.GetProperty("label").GetString());
        Assert.Equal(expected.Score, body.GetProperty("score").GetSingle(), 5);
        Assert.Equal(["negative", "positive"], body.GetProperty("probabilities").EnumerateObject().Select(p => p.Name));
        Assert.Equal(1f, body.GetProperty("probabilities").EnumerateObject().Sum(p => p.Value.GetSingle()), 4);
    }

    [Fact]
    public async Task Batch_returns_one_prediction_per_text_in_request_order()
    {
        string[] texts = ["Great sound.", "It broke after two days and support never answered.", "ok", "Works exactly as described, very happy with it."];
        using HttpResponseMessage response = await Client.PostAsJsonAsync("/classify/batch", new { texts });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement[] predictions = [.. (await ReadJsonAsync(response)).GetProperty("predictions").EnumerateArray()];
        Assert.Equal(texts.Length, predictions.Length);
        for (int i = 0; i < texts.Length; i++)
        {
            Prediction expected = Reference.Predict(texts[i]);
            Assert.Equal(expected.Label, predictions[i].GetProperty("label").GetString());
            Assert.Equal(expected.Score, predictions[i].GetProperty("score").GetSingle(), 5);
        }
    }

    [Fact]
    public async Task Health_is_healthy_with_the_queue_in_its_data()
    {
        using HttpResponseMessage response = await Client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement body = await ReadJsonAsync(response);
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        JsonElement check = body.GetProperty("checks").GetProperty("text-classifier");
        Assert.Equal("Healthy", check.GetProperty("status").GetString());
        Assert.Equal(1024, check.GetProperty("data").GetProperty("queueCapacity").GetInt32());
        Assert.Equal(0, check.GetProperty("data").GetProperty("queueLength").GetInt32());
    }

    [Theory]
    [InlineData("{\"text\": \"unterminated", "not valid JSON")]
    [InlineData("{text: 'single quotes'}", "not valid JSON")]
    [InlineData("{\"text\": 42}", "not valid JSON")]
    [InlineData("", "not valid JSON")]
    [InlineData("null", "JSON null")]
    public async Task Malformed_JSON_is_a_400_problem_with_a_message(string body, string expected)
    {
        using HttpResponseMessage response = await Client.PostAsync("/classify", Json(body));
        Assert.Contains(expected, await ProblemDetailAsync(response, HttpStatusCode.BadRequest), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"text\": \"\"}", "'text' is empty or white space")]
    [InlineData("{\"text\": \"  \\n\\t \"}", "'text' is empty or white space")]
    [InlineData("{}", "'text' is required")]
    public async Task An_empty_or_missing_text_is_a_400(string body, string expected)
    {
        using HttpResponseMessage response = await Client.PostAsync("/classify", Json(body));
        Assert.Contains(expected, await ProblemDetailAsync(response, HttpStatusCode.BadRequest), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Batch_limits_and_empty_texts_are_400s_naming_the_limit_or_the_index()
    {
        using HttpResponseMessage none = await Client.PostAsJsonAsync("/classify/batch", new { texts = Array.Empty<string>() });
        Assert.Contains("'texts' must hold 1 to 64 texts; it holds 0", await ProblemDetailAsync(none, HttpStatusCode.BadRequest), StringComparison.Ordinal);
        using HttpResponseMessage tooMany = await Client.PostAsJsonAsync("/classify/batch", new { texts = Enumerable.Repeat("fine", 65) });
        Assert.Contains("it holds 65", await ProblemDetailAsync(tooMany, HttpStatusCode.BadRequest), StringComparison.Ordinal);
        using HttpResponseMessage empty = await Client.PostAsJsonAsync("/classify/batch", new { texts = new[] { "fine", "" } });
        Assert.Contains("'texts[1]'", await ProblemDetailAsync(empty, HttpStatusCode.BadRequest), StringComparison.Ordinal);
        using HttpResponseMessage missing = await Client.PostAsync("/classify/batch", Json("{}"));
        Assert.Contains("it holds 0", await ProblemDetailAsync(missing, HttpStatusCode.BadRequest), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_that_is_not_JSON_is_a_415()
    {
        using HttpResponseMessage response = await Client.PostAsync("/classify", new StringContent("just text", Encoding.UTF8, "text/plain"));
        // Routing refuses it (the endpoints declare JSON bodies); status-code pages turn that into a problem.
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(415, (await ReadJsonAsync(response)).GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task A_megabyte_text_is_truncated_and_classified_and_a_body_over_the_limit_is_a_413()
    {
        string megabyte = string.Concat(Enumerable.Repeat("The battery is good but the screen is awful. ", 1024 * 1024 / 45 + 1))[..(1024 * 1024)];
        using HttpResponseMessage response = await Client.PostAsJsonAsync("/classify", new { text = megabyte });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Reference.Predict(megabyte).Label, (await ReadJsonAsync(response)).GetProperty("label").GetString());

        string fiveMegabytes = new('x', 5 * 1024 * 1024);
        using HttpResponseMessage tooLarge = await Client.PostAsJsonAsync("/classify", new { text = fiveMegabytes });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_the_contract()
    {
        using HttpResponseMessage response = await Client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement document = await ReadJsonAsync(response);
        Assert.Equal("Bert.Sharp classifier API", document.GetProperty("info").GetProperty("title").GetString());
        Assert.Contains("503 with `Retry-After`", document.GetProperty("info").GetProperty("description").GetString(), StringComparison.Ordinal);
        JsonElement paths = document.GetProperty("paths");
        JsonElement classify = paths.GetProperty("/classify").GetProperty("post");
        Assert.True(classify.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        Assert.Equal(["200", "400", "413", "415", "503"], classify.GetProperty("responses").EnumerateObject().Select(r => r.Name).Order(StringComparer.Ordinal));
        Assert.True(paths.TryGetProperty("/classify/batch", out _));
        JsonElement schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.TryGetProperty("ClassificationResult", out _));
        Assert.True(schemas.TryGetProperty("BatchClassificationResult", out _));
    }

    [Fact]
    public async Task A_full_queue_is_a_503_with_Retry_After_and_degrades_health()
    {
        var fake = new FakeTextClassifier();
        await using ApiServer busy = await ApiServer.StartAsync(TinyClassifierFolder.Create(), ["--TextClassifier:QueueCapacity=2", "--TextClassifier:MaxDelay=00:00:00"],
            builder => builder.Services.AddTextClassifier((_, _) => fake));
        var classifier = (BatchingTextClassifier)busy.App.Services.GetRequiredService<ITextClassifier>();
        fake.Hold();
        Task<HttpResponseMessage> running = busy.Client.PostAsJsonAsync("/classify", new { text = "held in the running batch" });
        await fake.HeldBatchStarted;
        Task<HttpResponseMessage>[] queued = [.. Enumerable.Range(0, 2).Select(i => busy.Client.PostAsJsonAsync("/classify", new { text = $"queued {i}" }))];
        while (classifier.QueueLength < 2)
        {
            await Task.Delay(1);
        }

        using HttpResponseMessage refused = await busy.Client.PostAsJsonAsync("/classify", new { text = "one too many" });
        Assert.Contains("is full (2 requests waiting)", await ProblemDetailAsync(refused, HttpStatusCode.ServiceUnavailable), StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        using HttpResponseMessage health = await busy.Client.GetAsync("/health");
        Assert.Equal("Degraded", (await ReadJsonAsync(health)).GetProperty("status").GetString());

        fake.Release();
        foreach (HttpResponseMessage ok in await Task.WhenAll([running, .. queued]))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            ok.Dispose();
        }
    }
}
