using System.Diagnostics;
using System.Diagnostics.Metrics;
using Bert.Sharp;
using Bert.Sharp.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a Bert.Sharp text classifier for dependency injection.</summary>
public static class TextClassifierServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ITextClassifier"/> as a singleton built by <paramref name="factory"/> and, unless
    /// <see cref="TextClassifierServiceOptions.EnableBatching"/> is off, wrapped in a <see cref="BatchingTextClassifier"/>
    /// (logger and meter factory from the container). The options are validated when the host starts, and the model is
    /// loaded then too (<see cref="TextClassifierServiceOptions.LoadOnStart"/>).
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
        Action<TextClassifierServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(factory);
        OptionsBuilder<TextClassifierServiceOptions> options = services.AddOptions<TextClassifierServiceOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TextClassifierServiceOptions>, TextClassifierServiceOptionsValidator>());
        services.AddSingleton(provider => Create(provider, factory));
        services.AddHostedService<TextClassifierLoader>();
        return services;
    }

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
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<TextClassifierServiceOptions>().Bind(configuration);
        return services.AddTextClassifier(factory, configure);
    }

    private static ITextClassifier Create(IServiceProvider provider, Func<IServiceProvider, TextClassifierServiceOptions, ITextClassifier> factory)
    {
        TextClassifierServiceOptions options = provider.GetRequiredService<IOptions<TextClassifierServiceOptions>>().Value;
        ILoggerFactory loggers = provider.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        ILogger logger = loggers.CreateLogger(typeof(TextClassifierServiceOptions).Namespace + ".TextClassifier");
        long start = Stopwatch.GetTimestamp();
        ITextClassifier classifier = factory(provider, options)
            ?? throw new InvalidOperationException($"The factory given to AddTextClassifier returned null for '{options.ModelDirectory}'.");
        if (logger.IsEnabled(LogLevel.Information))
        {
            string type = classifier.GetType().Name;
            string labels = string.Join(", ", classifier.Labels);
            double elapsedMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            HostingLog.Loaded(logger, options.Name, type, options.ModelDirectory, elapsedMs, labels);
        }
        if (!options.EnableBatching)
        {
            return classifier;
        }

        return new BatchingTextClassifier(classifier, options.ToBatcherOptions(), loggers.CreateLogger<BatchingTextClassifier>(), provider.GetService<IMeterFactory>());
    }
}
