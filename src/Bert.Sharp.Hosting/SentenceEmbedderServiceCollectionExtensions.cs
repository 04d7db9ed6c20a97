using Bert.Sharp;
using Bert.Sharp.Hosting;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers a Bert.Sharp sentence embedder for dependency injection, both as <see cref="ISentenceEmbedder"/> and, in
/// the style of Microsoft.Extensions.AI's <c>AddEmbeddingGenerator</c>, as <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>
/// of <c>string</c> to <c>Embedding&lt;float&gt;</c>.
/// </summary>
public static class SentenceEmbedderServiceCollectionExtensions
{
    private const string Kind = "sentence-embedder";

    /// <summary>
    /// Registers <see cref="ISentenceEmbedder"/> as a singleton built by <paramref name="factory"/> (behind a batching
    /// queue unless <see cref="BertServiceOptions.EnableBatching"/> is off) and an
    /// <c>IEmbeddingGenerator&lt;string, Embedding&lt;float&gt;&gt;</c> over it. Options are validated, and the model
    /// loaded, when the host starts.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="factory">
    /// Builds the embedder, for example <c>(sp, o) =&gt; SentenceEmbedder.FromPretrained(o.ModelDirectory!)</c> or
    /// <c>OnnxSentenceEmbedder.FromPretrained(o.ModelDirectory!)</c>. Called once; the container disposes it.
    /// </param>
    /// <param name="configure">Sets options in code.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddSentenceEmbedder(this IServiceCollection services, Func<IServiceProvider, SentenceEmbedderServiceOptions, ISentenceEmbedder> factory,
        Action<SentenceEmbedderServiceOptions>? configure = null) =>
        Register(services, null, null, factory, configure);

    /// <summary>Like <see cref="AddSentenceEmbedder(IServiceCollection, Func{IServiceProvider, SentenceEmbedderServiceOptions, ISentenceEmbedder}, Action{SentenceEmbedderServiceOptions}?)"/>, binding the options from <paramref name="configuration"/> first.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section holding <see cref="SentenceEmbedderServiceOptions"/>' keys.</param>
    /// <param name="factory">Builds the embedder from the validated options.</param>
    /// <param name="configure">Sets options in code, after binding.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddSentenceEmbedder(this IServiceCollection services, IConfiguration configuration,
        Func<IServiceProvider, SentenceEmbedderServiceOptions, ISentenceEmbedder> factory, Action<SentenceEmbedderServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Register(services, null, configuration, factory, configure);
    }

    /// <summary>
    /// Registers a keyed <see cref="ISentenceEmbedder"/> and a keyed <c>IEmbeddingGenerator&lt;string, Embedding&lt;float&gt;&gt;</c>
    /// under <paramref name="serviceKey"/>, so several embedders live in one app.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The key; also the options' name and (by default) the model's name.</param>
    /// <param name="factory">Builds the embedder from the validated options.</param>
    /// <param name="configure">Sets options in code.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddKeyedSentenceEmbedder(this IServiceCollection services, string serviceKey,
        Func<IServiceProvider, SentenceEmbedderServiceOptions, ISentenceEmbedder> factory, Action<SentenceEmbedderServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(serviceKey);
        return Register(services, serviceKey, null, factory, configure);
    }

    private static IServiceCollection Register(IServiceCollection services, string? serviceKey, IConfiguration? configuration,
        Func<IServiceProvider, SentenceEmbedderServiceOptions, ISentenceEmbedder> factory, Action<SentenceEmbedderServiceOptions>? configure)
    {
        ServedModelRegistration.Register(services, Kind, serviceKey, configuration, factory, configure,
            static (model, batching, loggers, meters) => new BatchingSentenceEmbedder(model, batching, loggers.CreateLogger<BatchingSentenceEmbedder>(), meters),
            static e => $"dimensions: {e.Dimensions}");
        string optionsName = ServedModelRegistration.OptionsName(serviceKey);
        IEmbeddingGenerator<string, Embedding<float>> Generator(IServiceProvider provider, ISentenceEmbedder embedder) =>
            new SentenceEmbeddingGenerator(embedder, provider.GetRequiredService<IOptionsMonitor<SentenceEmbedderServiceOptions>>().Get(optionsName).Name);
        if (serviceKey is null)
        {
            services.AddSingleton(provider => Generator(provider, provider.GetRequiredService<ISentenceEmbedder>()));
        }
        else
        {
            services.AddKeyedSingleton(serviceKey, (provider, _) => Generator(provider, provider.GetRequiredKeyedService<ISentenceEmbedder>(serviceKey)));
        }

        return services;
    }
}
