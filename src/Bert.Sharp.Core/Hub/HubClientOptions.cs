using Microsoft.Extensions.Logging;

namespace Bert.Sharp;

/// <summary>
/// Settings of a <see cref="HubClient"/>. Every property left <c>null</c> falls back to the environment
/// variables huggingface_hub (Python) reads, so both share one configuration and one cache:
/// <c>HF_ENDPOINT</c>, <c>HF_TOKEN</c> (or the token file written by <c>hf auth login</c>),
/// <c>HF_HUB_CACHE</c> / <c>HF_HOME</c>, and <c>HF_HUB_OFFLINE</c>.
/// </summary>
public sealed record HubClientOptions
{
    /// <summary>Hub base address; default <c>HF_ENDPOINT</c>, else <c>https://huggingface.co</c>.</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>
    /// Access token for gated or private models, sent as <c>Authorization: Bearer</c> to the Hub only (never to
    /// the CDN a download is redirected to). Default <c>HF_TOKEN</c>, else the file <c>HF_TOKEN_PATH</c>, else
    /// <c>{HF_HOME}/token</c>. Set <see cref="UseStoredToken"/> to <c>false</c> to send none.
    /// </summary>
    public string? Token { get; init; }

    /// <summary>Whether to pick up a token from the environment when <see cref="Token"/> is <c>null</c>. Default <c>true</c>.</summary>
    public bool UseStoredToken { get; init; } = true;

    /// <summary>
    /// The hub cache folder (the one holding <c>models--org--name</c>). Default <c>HF_HUB_CACHE</c>, else
    /// <c>{HF_HOME}/hub</c>, else <c>~/.cache/huggingface/hub</c> — the folder Python uses.
    /// </summary>
    public string? CacheDirectory { get; init; }

    /// <summary>
    /// <c>true</c>: never touch the network, serve from the cache or fail with a <see cref="HubException"/> of kind <see cref="HubErrorKind.OfflineNotCached"/>.
    /// Default: <c>HF_HUB_OFFLINE</c> (<c>1</c>, <c>true</c>, <c>yes</c>, <c>on</c>).
    /// </summary>
    public bool? Offline { get; init; }

    /// <summary>
    /// Re-hash cached blobs whose name is a sha256 before using them, catching a cache modified by hand even when
    /// its size is unchanged. Costs a full read of each file on every resolve. Sizes are always checked when online.
    /// </summary>
    public bool VerifyCachedFiles { get; init; }

    /// <summary>How many times a broken transfer is resumed before giving up. Default 5.</summary>
    public int MaxRetries { get; init; } = 5;

    /// <summary>Longest wait for response headers, and for the next chunk of a body. Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest wait for another process (or client) downloading the same file to finish. Default 30 min.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Delay before the first retry; doubled for each further one. Default 500 ms.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Message handler to send requests through (tests, proxies). It must not follow redirects itself: the client
    /// reads the Hub's headers before a redirect to the CDN. The client does not dispose it.
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>Where progress and decisions are logged. Default: nowhere.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>
    /// Environment variable lookup; <c>null</c> reads the process environment. Lets a host or a test supply its own.
    /// </summary>
    public Func<string, string?>? EnvironmentVariables { get; init; }
}
