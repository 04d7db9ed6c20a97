using System.Net;
using System.Text.Json;
using Bert.Sharp.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Tests.Serving;

/// <summary>Keyed registrations of every serving class, the embedding generator, and the models health check (JSON over real HTTP).</summary>
public sealed class ServedModelsHostingTests
{
    private static readonly string Folder = AppContext.BaseDirectory;

    /// <summary>An embedder without a model: [length, 1, 0] per text.</summary>
    private sealed class FakeEmbedder : ISentenceEmbedder
    {
        public int Dimensions => 3;

        public float[][] Embed(IReadOnlyList<string> texts) => [.. texts.Select(t => new float[] { t.Length, 1, 0 })];
    }

    /// <summary>A token classifier without a model: one entity per text, the whole text.</summary>
    private sealed class FakeTokenClassifier : ITokenClassifier
    {
        public IReadOnlyList<string> Labels { get; } = ["O", "B-PER", "I-PER"];

        public IReadOnlyList<Entity> Predict(string text) => [new Entity("PER", text, 0, text.Length, 1f)];

        public IReadOnlyList<IReadOnlyList<Entity>> PredictBatch(IReadOnlyList<string> texts) => [.. texts.Select(Predict)];

        public Task<IReadOnlyList<Entity>> PredictAsync(string text, CancellationToken cancellationToken = default) => Task.FromResult(Predict(text));

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task Two_keyed_classifiers_live_in_one_app_each_with_its_own_options_and_queue()
    {
        var sentiment = new FakeTextClassifier();
        var topic = new FakeTextClassifier();
        var services = new ServiceCollection().AddLogging();
        services.AddKeyedTextClassifier("sentiment", (_, _) => sentiment, o => o.ModelDirectory = Folder);
        services.AddKeyedTextClassifier("topic", (_, _) => topic, o =>
        {
            o.ModelDirectory = Folder;
            o.QueueCapacity = 7;
        });
        await using ServiceProvider provider = services.BuildServiceProvider();

        var first = Assert.IsType<BatchingTextClassifier>(provider.GetRequiredKeyedService<ITextClassifier>("sentiment"));
        var second = Assert.IsType<BatchingTextClassifier>(provider.GetRequiredKeyedService<ITextClassifier>("topic"));
        Assert.Same(sentiment, first.Inner);
        Assert.Same(topic, second.Inner);
        Assert.Equal("sentiment", first.Options.Name);
        Assert.Equal(new MicroBatcherOptions { QueueCapacity = 7, Name = "topic" }, second.Options);
        Assert.Null(provider.GetService<ITextClassifier>());
        Assert.Equal("long", (await first.PredictAsync("more than ten characters")).Label);
        Assert.Equal("short", (await second.PredictAsync("tiny")).Label);
    }

    [Fact]
    public async Task A_keyed_registration_with_a_missing_folder_names_its_key()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddKeyedTextClassifier("sentiment", (_, _) => new FakeTextClassifier(), o => o.ModelDirectory = "/no/such/folder");
        await using ServiceProvider provider = services.BuildServiceProvider();
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => provider.GetRequiredKeyedService<ITextClassifier>("sentiment"));
        Assert.Contains("TextClassifierServiceOptions['sentiment'].ModelDirectory '/no/such/folder' does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_classifiers_register_default_and_keyed_behind_a_batching_queue()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddTokenClassifier((_, _) => new FakeTokenClassifier(), o => o.ModelDirectory = Folder);
        services.AddKeyedTokenClassifier("ner", (_, _) => new FakeTokenClassifier(), o => o.ModelDirectory = Folder);
        await using ServiceProvider provider = services.BuildServiceProvider();
        ITokenClassifier byDefault = provider.GetRequiredService<ITokenClassifier>();
        ITokenClassifier keyed = provider.GetRequiredKeyedService<ITokenClassifier>("ner");
        Assert.NotSame(byDefault, keyed);
        Assert.Equal(["O", "B-PER", "I-PER"], keyed.Labels);
        Entity entity = Assert.Single(await keyed.PredictAsync("Ada Lovelace"));
        Assert.Equal(new Entity("PER", "Ada Lovelace", 0, 12, 1f), entity);
        IReadOnlyList<IReadOnlyList<Entity>> batch = byDefault.PredictBatch(["a", "bb"]);
        Assert.Equal(["a", "bb"], batch.Select(e => e[0].Text));
    }

    [Fact]
    public async Task The_embedding_generator_returns_the_embedders_vectors_default_and_keyed()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddSentenceEmbedder((_, _) => new FakeEmbedder(), o => o.ModelDirectory = Folder);
        services.AddKeyedSentenceEmbedder("search", (_, _) => new FakeEmbedder(), o =>
        {
            o.ModelDirectory = Folder;
            o.EnableBatching = false;
        });
        await using ServiceProvider provider = services.BuildServiceProvider();

        IEmbeddingGenerator<string, Embedding<float>> generator = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        GeneratedEmbeddings<Embedding<float>> embeddings = await generator.GenerateAsync(["a", "abc", ""]);
        Assert.Equal([[1f, 1, 0], [3f, 1, 0], [0f, 1, 0]], embeddings.Select(e => e.Vector.ToArray()));
        Assert.All(embeddings, e => Assert.Equal("sentence-embedder", e.ModelId));
        EmbeddingGeneratorMetadata metadata = Assert.IsType<EmbeddingGeneratorMetadata>(generator.GetService(typeof(EmbeddingGeneratorMetadata)));
        Assert.Equal(3, metadata.DefaultModelDimensions);

        IEmbeddingGenerator<string, Embedding<float>> keyed = provider.GetRequiredKeyedService<IEmbeddingGenerator<string, Embedding<float>>>("search");
        Embedding<float> one = Assert.Single(await keyed.GenerateAsync(["four"]));
        Assert.Equal([4f, 1, 0], one.Vector.ToArray());
        Assert.Equal("search", one.ModelId);
        Assert.Equal(3, provider.GetRequiredKeyedService<ISentenceEmbedder>("search").Embed(["xyz"])[0][0]);
    }

    [Fact]
    public async Task Health_answers_json_with_every_models_details_and_the_last_error()
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(["--urls", "http://127.0.0.1:0"]);
        builder.Logging.ClearProviders();
        builder.Services.AddKeyedTextClassifier("sentiment", (_, _) => new FakeTextClassifier(), o => o.ModelDirectory = Folder);
        builder.Services.AddKeyedTextClassifier("topic", (_, _) => new FakeTextClassifier(), o =>
        {
            o.ModelDirectory = Folder;
            o.QueueCapacity = 9;
        });
        builder.Services.AddSentenceEmbedder((_, _) => new FakeEmbedder(), o => o.ModelDirectory = Folder);
        builder.Services.AddHealthChecks().AddBertSharpModelsCheck();
        await using WebApplication app = builder.Build();
        app.MapBertSharpHealthChecks();
        await app.StartAsync();
        try
        {
            // One request the model fails: health reports it as the last error.
            ITextClassifier sentiment = app.Services.GetRequiredKeyedService<ITextClassifier>("sentiment");
            await Assert.ThrowsAsync<InvalidDataException>(() => sentiment.PredictAsync("throw"));

            using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
            using HttpResponseMessage response = await client.GetAsync(new Uri("/health", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            JsonElement body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("Healthy", body.GetProperty("status").GetString());
            JsonElement models = body.GetProperty("checks").GetProperty("bert-sharp-models").GetProperty("data");
            Assert.Equal(["sentiment", "topic", "sentence-embedder"], models.EnumerateObject().Select(p => p.Name));

            JsonElement first = models.GetProperty("sentiment");
            Assert.Equal("text-classifier", first.GetProperty("kind").GetString());
            Assert.Equal("sentiment", first.GetProperty("key").GetString());
            Assert.Equal(2, first.GetProperty("labels").GetInt32());
            Assert.Equal("unknown", first.GetProperty("device").GetString());
            Assert.True(first.GetProperty("batching").GetBoolean());
            Assert.Equal(0, first.GetProperty("queueLength").GetInt32());
            Assert.Equal(1024, first.GetProperty("queueCapacity").GetInt32());
            Assert.Equal(0, first.GetProperty("inFlight").GetInt32());
            Assert.Contains("InvalidDataException: the fake cannot classify 'throw'", first.GetProperty("lastError").GetString(), StringComparison.Ordinal);
            Assert.Equal(JsonValueKind.String, first.GetProperty("lastErrorTime").ValueKind);

            JsonElement topic = models.GetProperty("topic");
            Assert.Equal(9, topic.GetProperty("queueCapacity").GetInt32());
            Assert.Equal(JsonValueKind.Null, topic.GetProperty("lastError").ValueKind);

            JsonElement embedder = models.GetProperty("sentence-embedder");
            Assert.Equal("sentence-embedder", embedder.GetProperty("kind").GetString());
            Assert.Equal(JsonValueKind.Null, embedder.GetProperty("key").ValueKind);
            Assert.Equal(3, embedder.GetProperty("dimensions").GetInt32());
        }
        finally
        {
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task MapTextClassifier_answers_400_for_null_text_413_over_the_character_limit_and_classifies_otherwise()
    {
        var fake = new FakeTextClassifier();
        WebApplicationBuilder builder = WebApplication.CreateBuilder(["--urls", "http://127.0.0.1:0"]);
        builder.Logging.ClearProviders();
        builder.Services.AddKeyedTextClassifier("sentiment", (_, _) => fake, o =>
        {
            o.ModelDirectory = Folder;
            o.MaxCharactersPerRequest = 100;
            o.MaxTextsPerRequest = 3;
        });
        await using WebApplication app = builder.Build();
        app.MapTextClassifier("/sentiment", "sentiment");
        await app.StartAsync();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
            async Task<(HttpStatusCode Status, JsonElement Body, string? Type)> PostAsync(string path, string json)
            {
                using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
                using HttpResponseMessage response = await client.PostAsync(new Uri(path, UriKind.Relative), content);
                return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement, response.Content.Headers.ContentType?.MediaType);
            }

            foreach ((string path, string json, string detail) in new[]
            {
                ("/sentiment", "{}", "'text' is required"),
                ("/sentiment", "{\"text\": null}", "'text' is required"),
                ("/sentiment/batch", "{}", "'texts' is required"),
                ("/sentiment/batch", "{\"texts\": [\"a\", null]}", "'texts[1]' is missing or null"),
                ("/sentiment/batch", "{\"texts\": [\"a\", \"b\", \"c\", \"d\"]}", "must hold 1 to 3 texts"),
                ("/sentiment", "{\"text\": ", "not valid JSON"),
            })
            {
                (HttpStatusCode status, JsonElement body, string? type) = await PostAsync(path, json);
                Assert.Equal(HttpStatusCode.BadRequest, status);
                Assert.Equal("application/problem+json", type);
                Assert.Contains(detail, body.GetProperty("detail").GetString(), StringComparison.Ordinal);
            }

            (HttpStatusCode tooLarge, JsonElement problem, _) = await PostAsync("/sentiment/batch", "{\"texts\": [\"" + new string('a', 60) + "\", \"" + new string('b', 60) + "\"]}");
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge);
            Assert.Contains("120 characters; the limit is 100 (TextClassifierServiceOptions.MaxCharactersPerRequest)", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Empty(fake.Batches);

            (HttpStatusCode ok, JsonElement prediction, _) = await PostAsync("/sentiment", "{\"text\": \"more than ten characters\"}");
            Assert.Equal(HttpStatusCode.OK, ok);
            Assert.Equal("long", prediction.GetProperty("label").GetString());
            (HttpStatusCode okBatch, JsonElement batch, _) = await PostAsync("/sentiment/batch", "{\"texts\": [\"tiny\", \"more than ten characters\"]}");
            Assert.Equal(HttpStatusCode.OK, okBatch);
            Assert.Equal(["short", "long"], batch.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("label").GetString()));
        }
        finally
        {
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task The_models_check_is_unhealthy_naming_the_model_that_cannot_load()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddKeyedTextClassifier("broken", (_, o) => throw new FileNotFoundException($"No config.json in '{o.ModelDirectory}'."), o => o.ModelDirectory = Folder);
        services.AddHealthChecks().AddBertSharpModelsCheck();
        await using ServiceProvider provider = services.BuildServiceProvider();
        HealthReport report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Contains("broken: The text-classifier could not be loaded: No config.json in", report.Entries["bert-sharp-models"].Description, StringComparison.Ordinal);
    }
}
