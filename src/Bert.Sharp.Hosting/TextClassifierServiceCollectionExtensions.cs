using Bert.Sharp;
using Bert.Sharp.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Bert.Sharp text classifiers for dependency injection (one default, and any number keyed).</summary>
public static class TextClassifierServiceCollectionExtensions
{
    private const string Kind = "text-classifier";

    /// <summary>
    /// Registers <see cref="ITextClassifier"/> as a singleton built by <paramref name="factory"/> and, unless
    /// <see cref="BertServiceOptions.EnableBatching"/> is off, wrapped in a <see cref="BatchingTextClassifier"/>
    /// (logger and meter factory from the container). The options are validated when the host starts, and the model is
    /// loaded then too (<see cref="BertServiceOptions.LoadOnStart"/>).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="factory">
    /// Builds the classifier from the validated options, for example
    /// <c>(sp, o) =&gt; TextClassifier.FromPretrained(o.ModelDirectory!)</c> (TorchSharp) or the ONNX Runtime classifier's
    /// <c>FromPretrained</c>. Called once; the container disposes what it returns.
    /// </param>
    /// <param name="configure">Sets options in code (after any configuration binding).</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddTextClassifier(this IServiceCollection services, Func<IServiceProvider, TextClassifierServiceOptions, ITextClassifier> factory,
        Action<TextClassifierServiceOptions>? configure = null) =>
        Register(services, null, null, factory, configure);

    /// <summary>
    /// Like <see cref="AddTextClassifier(IServiceCollection, Func{IServiceProvider, TextClassifierServiceOptions, ITextClassifier}, Action{TextClassifierServiceOptions}?)"/>,
    /// binding the options from <paramref name="configuration"/> first (pass <c>builder.Configuration.GetSection("TextClassifier")</c>).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section holding <see cref="TextClassifierServiceOptions"/>' keys.</param>
    /// <param name="factory">Builds the classifier from the validated options.</param>
    /// <param name="configure">Sets options in code, after binding.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddTextClassifier(this IServiceCollection services, IConfiguration configuration,
        Func<IServiceProvider, TextClassifierServiceOptions, ITextClassifier> factory, Action<TextClassifierServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Register(services, null, configuration, factory, configure);
    }

    /// <summary>
    /// Registers a keyed <see cref="ITextClassifier"/> (resolve it with <c>GetRequiredKeyedService&lt;ITextClassifier&gt;(serviceKey)</c>
    /// or <c>[FromKeyedServices("sentiment")]</c>), so several classifiers live in one app. Each has its own options
    /// (named after the key; <see cref="BertServiceOptions.Name"/> defaults to the key), batching queue and health entry.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The key, for example <c>"sentiment"</c>; also the options' name.</param>
    /// <param name="factory">Builds the classifier from the validated options. Called once; the container disposes what it returns.</param>
    /// <param name="configure">Sets options in code.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddKeyedTextClassifier(this IServiceCollection services, string serviceKey,
        Func<IServiceProvider, TextClassifierServiceOptions, ITextClassifier> factory, Action<TextClassifierServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(serviceKey);
        return Register(services, serviceKey, null, factory, configure);
    }

    /// <summary>
    /// Like <see cref="AddKeyedTextClassifier(IServiceCollection, string, Func{IServiceProvider, TextClassifierServiceOptions, ITextClassifier}, Action{TextClassifierServiceOptions}?)"/>,
    /// binding the options from <paramref name="configuration"/> first (for example <c>builder.Configuration.GetSection("Models:Sentiment")</c>).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The key; also the options' name.</param>
    /// <param name="configuration">The section holding <see cref="TextClassifierServiceOptions"/>' keys for this classifier.</param>
    /// <param name="factory">Builds the classifier from the validated options.</param>
    /// <param name="configure">Sets options in code, after binding.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddKeyedTextClassifier(this IServiceCollection services, string serviceKey, IConfiguration configuration,
        Func<IServiceProvider, TextClassifierServiceOptions, ITextClassifier> factory, Action<TextClassifierServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(serviceKey);
        ArgumentNullException.ThrowIfNull(configuration);
        return Register(services, serviceKey, configuration, factory, configure);
    }

    private static IServiceCollection Register(IServiceCollection services, string? serviceKey, IConfiguration? configuration,
        Func<IServiceProvider, TextClassifierServiceOptions, ITextClassifier> factory, Action<TextClassifierServiceOptions>? configure) =>
        ServedModelRegistration.Register(services, Kind, serviceKey, configuration, factory, configure,
            static (model, batching, loggers, meters) => new BatchingTextClassifier(model, batching, loggers.CreateLogger<BatchingTextClassifier>(), meters),
            static c => "labels: " + string.Join(", ", c.Labels));
}
