using Bert.Sharp.Hosting;
using Bert.Sharp.Tests.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Bert.Sharp.Tests.Serving;

public class TextClassifierHostingTests
{
    private static string ExistingDirectory() => TestTemp.NewDirectory("hosting");

    [Fact]
    public async Task AddTextClassifier_builds_once_from_validated_options_and_wraps_it_in_the_batcher()
    {
        var fake = new FakeTextClassifier();
        string dir = ExistingDirectory();
        int built = 0;
        TextClassifierServiceOptions? seen = null;
        var services = new ServiceCollection().AddLogging().AddMetrics();
        services.AddTextClassifier((_, options) =>
        {
            built++;
            seen = options;
            return fake;
        }, o =>
        {
            o.ModelDirectory = dir;
            o.MaxBatchSize = 8;
            o.Name = "sentiment";
        });
        await using ServiceProvider provider = services.BuildServiceProvider();

        var classifier = Assert.IsType<BatchingTextClassifier>(provider.GetRequiredService<ITextClassifier>());
        Assert.Same(classifier, provider.GetRequiredService<ITextClassifier>());
        Assert.Same(fake, classifier.Inner);
        Assert.Equal(1, built);
        Assert.Equal(dir, seen!.ModelDirectory);
        Assert.Equal(new MicroBatcherOptions { MaxBatchSize = 8, Name = "sentiment" }, classifier.Options);
        Assert.Equal("long", (await classifier.PredictAsync("more than ten characters")).Label);
    }

    [Fact]
    public async Task Options_bind_from_configuration_and_batching_can_be_turned_off()
    {
        string dir = ExistingDirectory();
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TextClassifier:ModelDirectory"] = dir,
            ["TextClassifier:EnableBatching"] = "false",
            ["TextClassifier:MaxDelay"] = "00:00:00.005",
            ["TextClassifier:QueueCapacity"] = "77",
        }).Build();
        var fake = new FakeTextClassifier();
        var services = new ServiceCollection();
        services.AddTextClassifier(configuration.GetSection(TextClassifierServiceOptions.SectionName), (_, _) => fake);
        await using ServiceProvider provider = services.BuildServiceProvider();

        TextClassifierServiceOptions options = provider.GetRequiredService<IOptions<TextClassifierServiceOptions>>().Value;
        Assert.Equal(TimeSpan.FromMilliseconds(5), options.MaxDelay);
        Assert.Equal(77, options.QueueCapacity);
        Assert.Same(fake, provider.GetRequiredService<ITextClassifier>());
    }

    [Theory]
    [InlineData(null, "TextClassifierServiceOptions.ModelDirectory is not set")]
    [InlineData("/no/such/model/folder", "TextClassifierServiceOptions.ModelDirectory '/no/such/model/folder' does not exist")]
    public async Task A_missing_model_directory_fails_the_host_start_with_a_clear_message(string? directory, string expected)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        int built = 0;
        builder.Services.AddTextClassifier((_, _) =>
        {
            built++;
            return new FakeTextClassifier();
        }, o => o.ModelDirectory = directory);
        using IHost host = builder.Build();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, built);
    }

    [Fact]
    public async Task Out_of_range_options_are_all_reported_at_start()
    {
        var services = new ServiceCollection();
        services.AddTextClassifier((_, _) => new FakeTextClassifier(), o =>
        {
            o.ModelDirectory = ExistingDirectory();
            o.MaxBatchSize = 0;
            o.QueueCapacity = -1;
            o.MaxDelay = TimeSpan.FromSeconds(-1);
            o.DegradedQueueRatio = 1.5;
        });
        await using ServiceProvider provider = services.BuildServiceProvider();
        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<ITextClassifier>());
        Assert.Equal(4, error.Failures.Count());
        Assert.Contains("MaxBatchSize must be positive; it is 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("DegradedQueueRatio must be in (0, 1]; it is 1.5", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_model_is_loaded_while_the_host_starts_and_disposed_with_it()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var fake = new FakeTextClassifier();
        int built = 0;
        builder.Services.AddTextClassifier((_, _) =>
        {
            built++;
            return fake;
        }, o => o.ModelDirectory = ExistingDirectory());
        IHost host = builder.Build();
        Assert.Equal(0, built);
        await host.StartAsync();
        Assert.Equal(1, built);
        await host.StopAsync();
        host.Dispose();
        Assert.True(fake.Disposed);
    }

    [Fact]
    public async Task A_real_TextClassifier_served_through_the_factory_answers_like_the_model()
    {
        string dir = TinyClassifierFolder.Create();
        var services = new ServiceCollection().AddLogging();
        services.AddTextClassifier((_, o) => TextClassifier.FromPretrained(o.ModelDirectory!), o => o.ModelDirectory = dir);
        await using ServiceProvider provider = services.BuildServiceProvider();
        using var direct = TextClassifier.FromPretrained(dir);
        ITextClassifier served = provider.GetRequiredService<ITextClassifier>();
        Assert.Equal(direct.Predict("the screen was great").Label, (await served.PredictAsync("the screen was great")).Label);
    }

    [Fact]
    public async Task Health_is_healthy_then_degraded_when_the_queue_nearly_fills()
    {
        var fake = new FakeTextClassifier();
        var services = new ServiceCollection().AddLogging();
        services.AddTextClassifier((_, _) => fake, o =>
        {
            o.ModelDirectory = ExistingDirectory();
            o.QueueCapacity = 5;
            o.DegradedQueueRatio = 0.6;
            o.MaxDelay = TimeSpan.Zero;
        });
        services.AddHealthChecks().AddTextClassifierCheck(tags: ["ready"]);
        await using ServiceProvider provider = services.BuildServiceProvider();
        HealthCheckService health = provider.GetRequiredService<HealthCheckService>();

        HealthReport healthy = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, healthy.Status);
        Assert.Equal(5, healthy.Entries["text-classifier"].Data["queueCapacity"]);
        Assert.Equal(["ready"], healthy.Entries["text-classifier"].Tags);

        var classifier = (BatchingTextClassifier)provider.GetRequiredService<ITextClassifier>();
        fake.Hold();
        Task<Prediction> running = classifier.PredictAsync("running");
        await fake.HeldBatchStarted;
        Task<Prediction>[] queued = [.. Enumerable.Range(0, 3).Select(i => classifier.PredictAsync($"queued {i}"))];
        HealthReport degraded = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Degraded, degraded.Status);
        Assert.Contains("3 of 5 queue places taken", degraded.Entries["text-classifier"].Description, StringComparison.Ordinal);

        fake.Release();
        await Task.WhenAll([running, .. queued]);
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);
    }

    [Fact]
    public async Task Health_is_unhealthy_with_the_reason_when_the_model_cannot_be_loaded()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddTextClassifier((_, o) => throw new FileNotFoundException($"No config.json in '{o.ModelDirectory}'."), o => o.ModelDirectory = ExistingDirectory());
        services.AddHealthChecks().AddTextClassifierCheck();
        await using ServiceProvider provider = services.BuildServiceProvider();

        HealthReport report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Contains("could not be loaded: No config.json in", report.Entries["text-classifier"].Description, StringComparison.Ordinal);
    }
}
