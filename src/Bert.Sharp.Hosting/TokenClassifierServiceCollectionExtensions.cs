using Bert.Sharp;
using Bert.Sharp.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Bert.Sharp token classifiers (named-entity recognition) for dependency injection (one default, and any number keyed).</summary>
public static class TokenClassifierServiceCollectionExtensions
{
    private const string Kind = "token-classifier";

    /// <summary>
    /// Registers <see cref="ITokenClassifier"/> as a singleton built by <paramref name="factory"/> and, unless
    /// <see cref="BertServiceOptions.EnableBatching"/> is off, wrapped in a batching queue (a <see cref="MicroBatcher{TRequest, TResult}"/> over
    /// <see cref="ITokenClassifier.PredictBatch"/>; logger and meter factory from the container). The options are validated when the host starts, and the model is
    /// loaded then too (<see cref="BertServiceOptions.LoadOnStart"/>).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="factory">
    /// Builds the classifier from the validated options, for example
    /// <c>(sp, o) =&gt; TokenClassifier.FromPretrained(o.ModelDirectory!)</c> (TorchSharp) or OnnxTokenClassifier's
    /// <c>FromPretrained</c>. Called once; the container disposes what it returns.
    /// </param>
    /// <param name="configure">Sets options in code (after any configuration binding).</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddTokenClassifier(this IServiceCollection services, Func<IServiceProvider, TokenClassifierServiceOptions, ITokenClassifier> factory,
        Action<TokenClassifierServiceOptions>? configure = null) =>
        Register(services, null, null, factory, configure);

    /// <summary>
    /// Like <see cref="AddTokenClassifier(IServiceCollection, Func{IServiceProvider, TokenClassifierServiceOptions, ITokenClassifier}, Action{TokenClassifierServiceOptions}?)"/>,
    /// binding the options from <paramref name="configuration"/> first (pass <c>builder.Configuration.GetSection("TokenClassifier")</c>).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section holding <see cref="TokenClassifierServiceOptions"/>' keys.</param>
    /// <param name="factory">Builds the classifier from the validated options.</param>
    /// <param name="configure">Sets options in code, after binding.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddTokenClassifier(this IServiceCollection services, IConfiguration configuration,
        Func<IServiceProvider, TokenClassifierServiceOptions, ITokenClassifier> factory, Action<TokenClassifierServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Register(services, null, configuration, factory, configure);
    }

    /// <summary>
    /// Registers a keyed <see cref="ITokenClassifier"/> (resolve it with <c>GetRequiredKeyedService&lt;ITokenClassifier&gt;(serviceKey)</c>
    /// or <c>[FromKeyedServices("ner")]</c>), so several token classifiers live in one app. Each has its own options
    /// (named after the key; <see cref="BertServiceOptions.Name"/> defaults to the key), batching queue and health entry.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The key, for example <c>"ner"</c>; also the options' name.</param>
    /// <param name="factory">Builds the classifier from the validated options. Called once; the container disposes what it returns.</param>
    /// <param name="configure">Sets options in code.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddKeyedTokenClassifier(this IServiceCollection services, string serviceKey,
        Func<IServiceProvider, TokenClassifierServiceOptions, ITokenClassifier> factory, Action<TokenClassifierServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(serviceKey);
        return Register(services, serviceKey, null, factory, configure);
    }

    /// <summary>
    /// Like <see cref="AddKeyedTokenClassifier(IServiceCollection, string, Func{IServiceProvider, TokenClassifierServiceOptions, ITokenClassifier}, Action{TokenClassifierServiceOptions}?)"/>,
    /// binding the options from <paramref name="configuration"/> first (for example <c>builder.Configuration.GetSection("Models:Ner")</c>).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The key; also the options' name.</param>
    /// <param name="configuration">The section holding <see cref="TokenClassifierServiceOptions"/>' keys for this classifier.</param>
    /// <param name="factory">Builds the classifier from the validated options.</param>
    /// <param name="configure">Sets options in code, after binding.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddKeyedTokenClassifier(this IServiceCollection services, string serviceKey, IConfiguration configuration,
        Func<IServiceProvider, TokenClassifierServiceOptions, ITokenClassifier> factory, Action<TokenClassifierServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(serviceKey);
        ArgumentNullException.ThrowIfNull(configuration);
        return Register(services, serviceKey, configuration, factory, configure);
    }

    private static IServiceCollection Register(IServiceCollection services, string? serviceKey, IConfiguration? configuration,
        Func<IServiceProvider, TokenClassifierServiceOptions, ITokenClassifier> factory, Action<TokenClassifierServiceOptions>? configure) =>
        ServedModelRegistration.Register(services, Kind, serviceKey, configuration, factory, configure,
            static (model, batching, loggers, meters) => new BatchingTokenClassifier(model, batching, loggers.CreateLogger<BatchingTokenClassifier>(), meters),
            static c => "labels: " + string.Join(", ", c.Labels));
}
