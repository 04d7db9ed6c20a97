using Bert.Sharp;
using Bert.Sharp.Hosting;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ClassifierApi;

/// <summary>Builds the API: services, limits, endpoints. Tests and the benchmark build it the same way as <c>Program</c>.</summary>
public static class ClassifierApiApp
{
    /// <summary>
    /// Builds the application from command-line arguments (<c>--urls</c>, <c>--model DIR</c>, and any configuration key
    /// such as <c>--TextClassifier:EnableBatching=false</c>). Without a model directory it finds or trains the sentiment
    /// model first (see <see cref="SentimentModel"/>).
    /// </summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="configure">Changes the builder after the defaults (tests replace the classifier here).</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
        var limits = builder.Configuration.GetSection("ClassifierApi").Get<ApiLimits>() ?? new ApiLimits();
        builder.Services.AddSingleton(limits);
        // Slow-drip connections are closed and work per request is bounded (values and reasons: ApiLimits; keys under ClassifierApi).
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBodyBytes;
            kestrel.Limits.RequestHeadersTimeout = limits.RequestHeadersTimeout;
            kestrel.Limits.KeepAliveTimeout = limits.KeepAliveTimeout;
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(limits.MinRequestBodyBytesPerSecond, limits.MinRequestBodyGracePeriod);
            kestrel.Limits.MaxConcurrentConnections = limits.MaxConcurrentConnections;
        });

        // --model DIR wins; then TextClassifier:ModelDirectory from configuration; then the sentiment sample's model.
        string? model = builder.Configuration["model"] ?? builder.Configuration[$"{TextClassifierServiceOptions.SectionName}:ModelDirectory"];
        model ??= SentimentModel.FindOrTrain(builder.Configuration);
        builder.Configuration[$"{TextClassifierServiceOptions.SectionName}:ModelDirectory"] = model;

        builder.Services.AddTextClassifier(builder.Configuration.GetSection(TextClassifierServiceOptions.SectionName), static (services, options) =>
            TextClassifier.FromPretrained(options.ModelDirectory!, new TextClassifierOptions { LoggerFactory = services.GetService<ILoggerFactory>() }));
        builder.Services.AddHealthChecks().AddTextClassifierCheck();
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Bert.Sharp classifier API";
            document.Info.Description = ApiDescription.Text;
            return Task.CompletedTask;
        }));
        configure?.Invoke(builder);

        WebApplication app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapOpenApi();
        app.MapClassifyEndpoints();
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = HealthResponseWriter.WriteAsync });
        return app;
    }
}
