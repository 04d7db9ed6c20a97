using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bert.Sharp.Hosting;

/// <summary>What every <c>Add...</c> / <c>AddKeyed...</c> registration does: options, validation, the singleton, the start-up load.</summary>
internal static class ServedModelRegistration
{
    /// <summary>The options name of a registration: the service key, or the default name.</summary>
    public static string OptionsName(string? serviceKey) => serviceKey ?? Options.DefaultName;

    public static IServiceCollection Register<TService, TOptions>(IServiceCollection services, string kind, string? serviceKey, IConfiguration? configuration,
        Func<IServiceProvider, TOptions, TService> factory, Action<TOptions>? configure, Func<TService, MicroBatcherOptions, ILoggerFactory, IMeterFactory?, TService> batch, Func<TService, string> describe)
        where TService : class
        where TOptions : BertServiceOptions
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(factory);
        if (serviceKey is not null && string.IsNullOrWhiteSpace(serviceKey))
        {
            throw new ArgumentException($"The service key of a keyed {kind} must not be empty or white space.", nameof(serviceKey));
        }

        string optionsName = OptionsName(serviceKey);
        OptionsBuilder<TOptions> options = services.AddOptions<TOptions>(optionsName);
        if (serviceKey is not null)
        {
            // Keyed models are named after their key in logs, health and metrics unless the options say otherwise.
            options.Configure(o => o.Name = serviceKey);
        }

        if (configuration is not null)
        {
            options.Bind(configuration);
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, ServiceOptionsValidator<TOptions>>());
        TService Create(IServiceProvider provider) => Build(provider, kind, optionsName, factory, batch, describe);
        if (serviceKey is null)
        {
            services.AddSingleton(Create);
        }
        else
        {
            services.AddKeyedSingleton(serviceKey, (provider, _) => Create(provider));
        }

        services.AddSingleton(new ServedModel(kind, serviceKey, typeof(TService), provider => provider.GetRequiredService<IOptionsMonitor<TOptions>>().Get(optionsName)));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ServedModelLoader>());
        return services;
    }

    private static TService Build<TService, TOptions>(IServiceProvider provider, string kind, string optionsName, Func<IServiceProvider, TOptions, TService> factory,
        Func<TService, MicroBatcherOptions, ILoggerFactory, IMeterFactory?, TService> batch, Func<TService, string> describe)
        where TService : class
        where TOptions : BertServiceOptions
    {
        TOptions options = provider.GetRequiredService<IOptionsMonitor<TOptions>>().Get(optionsName);
        ILoggerFactory loggers = provider.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        ILogger logger = loggers.CreateLogger(typeof(BertServiceOptions).Namespace + "." + typeof(TService).Name.TrimStart('I'));
        long start = Stopwatch.GetTimestamp();
        TService model = factory(provider, options)
            ?? throw new InvalidOperationException($"The factory given for the {kind} '{options.Name}' returned null for '{options.ModelDirectory}'.");
        if (logger.IsEnabled(LogLevel.Information))
        {
            string type = model.GetType().Name;
            double elapsedMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            string details = describe(model);
            HostingLog.Loaded(logger, kind, options.Name, type, options.ModelDirectory, elapsedMs, details);
        }

        return options.EnableBatching ? batch(model, options.ToBatcherOptions(), loggers, provider.GetService<IMeterFactory>()) : model;
    }
}
