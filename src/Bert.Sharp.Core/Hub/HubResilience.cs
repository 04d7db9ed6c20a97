using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Bert.Sharp.Hub;

/// <summary>
/// The Polly pipelines every Hub request runs through, built once per <see cref="HubClient"/> from its
/// <see cref="HubClientOptions"/>:
/// <list type="bullet">
/// <item><see cref="Deadline"/>: one timeout around a whole call (<see cref="HubClientOptions.OverallTimeout"/>).</item>
/// <item><see cref="Requests"/>: retry (exponential back-off with jitter, <c>Retry-After</c> honoured) around a
/// per-attempt timeout (<see cref="HubClientOptions.RequestTimeout"/>), for metadata requests.</item>
/// <item><see cref="Transfers"/>: the same retry for file bodies, each attempt resuming where the last broke off; its
/// attempts are bounded by header, idle and low-speed timeouts inside the transfer, as a body may rightly take long.</item>
/// <item><see cref="Probe"/>: the per-attempt timeout alone, for the first request of a call the cache could answer:
/// an unreachable Hub falls back to the cache at once, as in Python, instead of after every retry.</item>
/// </list>
/// Only <see cref="TransientHubException"/> is retried: a Hub refusal (4xx other than 408/429), bad data, a
/// cancellation or the deadline are not.
/// </summary>
internal sealed class HubResilience
{
    /// <summary>Polly's bounds for a timeout strategy.</summary>
    private static readonly TimeSpan MinTimeout = TimeSpan.FromMilliseconds(11);
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(24) - TimeSpan.FromMilliseconds(1);

    private static readonly ResiliencePropertyKey<string> RepoKey = new("Bert.Sharp.Hub.RepoId");
    private static readonly ResiliencePropertyKey<string> FileKey = new("Bert.Sharp.Hub.FileName");

    private readonly HubClientOptions _options;
    private readonly ILogger _logger;

    public HubResilience(HubClientOptions options, ILogger logger)
    {
        Validate(options);
        _options = options;
        _logger = logger;

        Deadline = options.OverallTimeout is TimeSpan overall && overall != Timeout.InfiniteTimeSpan
            ? new ResiliencePipelineBuilder().AddTimeout(overall).Build()
            : ResiliencePipeline.Empty;

        // The first strategy added is the outermost: the retry wraps the per-attempt timeout.
        Requests = AddAttemptTimeout(AddRetry(new ResiliencePipelineBuilder())).Build();
        Transfers = AddRetry(new ResiliencePipelineBuilder()).Build();
        Probe = AddAttemptTimeout(new ResiliencePipelineBuilder()).Build();
    }

    public ResiliencePipeline Deadline { get; }

    public ResiliencePipeline Requests { get; }

    public ResiliencePipeline Transfers { get; }

    public ResiliencePipeline Probe { get; }

    /// <summary>Runs <paramref name="attempt"/> through <paramref name="pipeline"/>, naming the repository and file in retry logs.</summary>
    public static async Task<T> ExecuteAsync<T>(ResiliencePipeline pipeline, string repoId, string? fileName,
        Func<CancellationToken, Task<T>> attempt, CancellationToken cancellationToken)
    {
        ResilienceContext context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(RepoKey, repoId);
        context.Properties.Set(FileKey, fileName ?? "the file list");
        try
        {
            return await pipeline.ExecuteAsync(static async (ctx, run) => await run(ctx.CancellationToken).ConfigureAwait(false), context, attempt)
                .ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>Whether a failure's <c>Retry-After</c> asks for a longer wait than the client allows: then it is not retried.</summary>
    public bool WaitTooLong(TransientHubException e) => e.RetryAfter > _options.MaxRetryDelay;

    private ResiliencePipelineBuilder AddRetry(ResiliencePipelineBuilder builder)
    {
        if (_options.MaxRetries == 0)
        {
            return builder;
        }

        return builder.AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = _options.MaxRetries,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = _options.RetryDelay,
            MaxDelay = _options.MaxRetryDelay,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is TransientHubException e && !WaitTooLong(e)),
            DelayGenerator = static args => ValueTask.FromResult(
                args.Outcome.Exception is TransientHubException { RetryAfter: TimeSpan wait } ? wait : (TimeSpan?)null),
            OnRetry = args =>
            {
                if (args.Outcome.Exception is TransientHubException e)
                {
                    HubLog.Retrying(_logger, args.Context.Properties.GetValue(RepoKey, "?"), args.Context.Properties.GetValue(FileKey, "?"),
                        args.AttemptNumber + 1, _options.MaxRetries + 1, (long)args.RetryDelay.TotalMilliseconds, e.Url, e.Message);
                }

                return ValueTask.CompletedTask;
            },
        });
    }

    private ResiliencePipelineBuilder AddAttemptTimeout(ResiliencePipelineBuilder builder) =>
        _options.RequestTimeout == Timeout.InfiniteTimeSpan
            ? builder
            : builder.AddTimeout(new TimeoutStrategyOptions { Timeout = _options.RequestTimeout });

    private static void Validate(HubClientOptions options)
    {
        static void Check(bool ok, string name, TimeSpan value, string rule)
        {
            if (!ok)
            {
                throw new ArgumentException($"HubClientOptions.{name} is {value}; it must be {rule}.", nameof(options));
            }
        }

        static bool IsTimeout(TimeSpan t) => t == Timeout.InfiniteTimeSpan || (t >= MinTimeout && t <= MaxTimeout);

        if (options.MaxRetries < 0)
        {
            throw new ArgumentException($"HubClientOptions.MaxRetries is {options.MaxRetries}; it must not be negative.", nameof(options));
        }

        if (options.MinimumBytesPerSecond < 0 || options.MaxMetadataBytes <= 0)
        {
            throw new ArgumentException(
                $"HubClientOptions.MinimumBytesPerSecond ({options.MinimumBytesPerSecond}) must not be negative and MaxMetadataBytes " +
                $"({options.MaxMetadataBytes}) must be positive.", nameof(options));
        }

        const string TimeoutRule = "between 11 ms and 24 hours, or Timeout.InfiniteTimeSpan";
        Check(IsTimeout(options.RequestTimeout), nameof(options.RequestTimeout), options.RequestTimeout, TimeoutRule);
        Check(IsTimeout(options.ReadTimeout), nameof(options.ReadTimeout), options.ReadTimeout, TimeoutRule);
        Check(options.OverallTimeout is not TimeSpan overall || IsTimeout(overall), nameof(options.OverallTimeout),
            options.OverallTimeout ?? TimeSpan.Zero, TimeoutRule + " (or null)");
        Check(options.RetryDelay >= TimeSpan.Zero && options.RetryDelay <= TimeSpan.FromDays(1), nameof(options.RetryDelay),
            options.RetryDelay, "between 0 and 1 day");
        Check(options.MaxRetryDelay >= options.RetryDelay && options.MaxRetryDelay <= TimeSpan.FromDays(1), nameof(options.MaxRetryDelay),
            options.MaxRetryDelay, "at least RetryDelay and at most 1 day");
        Check(options.LockTimeout >= TimeSpan.Zero, nameof(options.LockTimeout), options.LockTimeout, "not negative");
    }
}
