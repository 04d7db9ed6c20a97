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
    /// Re-hash, before using it, a cached file that this library did not verify itself — one written by Python's
    /// huggingface_hub, or by an older version — against the sha256 or git sha1 its blob is named by (a full read of the
    /// file, once: a file that passes is recorded as verified). Default <c>false</c>: such a file is trusted as Python
    /// trusts it, after its size is compared with the Hub's when online. Files this library downloaded were verified
    /// before they were cached, and are re-hashed regardless of this setting if they changed on disk since.
    /// </summary>
    public bool VerifyCachedFiles { get; init; }

    /// <summary>
    /// How many times a failed request or transfer is retried (connection refused or reset, timeout, stall, HTTP 5xx,
    /// 408 or 429) before giving up; a transfer resumes where it broke off. Other 4xx answers are never retried.
    /// Default 5; 0 turns retries off.
    /// </summary>
    public int MaxRetries { get; init; } = 5;

    /// <summary>
    /// Median wait before the first retry; later waits grow exponentially, with random jitter so that many clients do
    /// not retry in step. Default 500 ms.
    /// </summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Longest wait between two attempts. A <c>Retry-After</c> sent with HTTP 429 or 503 is honoured up to this long;
    /// a server asking for a longer wait gets no retry (the error says how long it asked for). Default 30 s.
    /// </summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Time allowed for one attempt of a request: for the Hub's metadata (file list, file headers) the whole answer,
    /// body included; for a file download, until the response headers arrive. Default 30 s;
    /// <see cref="Timeout.InfiniteTimeSpan"/> for no limit.
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Longest a file download may go without receiving a byte before the attempt counts as broken (and is resumed by a
    /// retry). Also the window over which <see cref="MinimumBytesPerSecond"/> is measured. Default 30 s;
    /// <see cref="Timeout.InfiniteTimeSpan"/> for no limit.
    /// </summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Lowest average speed a file download must keep over every <see cref="ReadTimeout"/> window; slower counts as a
    /// stalled attempt and is resumed by a retry. Catches a server that drips a byte now and then, which an idle timeout
    /// alone never does. Default 1024 bytes per second; 0 turns the check off.
    /// </summary>
    public long MinimumBytesPerSecond { get; init; } = 1024;

    /// <summary>
    /// Deadline for one whole call (<see cref="HubClient.DownloadModelAsync"/>, <see cref="HubClient.DownloadFileAsync"/>,
    /// <see cref="HubClient.ListFilesAsync"/>, <see cref="PretrainedResolver"/>): every request, retry, back-off and
    /// lock wait included; past it the call fails with <see cref="HubErrorKind.Timeout"/> and a partial file is kept for
    /// the next call to resume. Default <c>null</c>, no deadline: a model of several gigabytes may rightly take long on
    /// a slow link, and stalls are caught by <see cref="ReadTimeout"/> and <see cref="MinimumBytesPerSecond"/>. Services
    /// that must start within a bound set it (or pass a <see cref="CancellationToken"/>).
    /// </summary>
    public TimeSpan? OverallTimeout { get; init; }

    /// <summary>
    /// Largest metadata answer (the JSON file list of a repository) read into memory; a larger one is refused with a
    /// <see cref="HubErrorKind.Protocol"/> error, whether or not the server announced its length. Default 64 MiB
    /// (the file list of a model with thousands of files is a few hundred kilobytes).
    /// </summary>
    public long MaxMetadataBytes { get; init; } = 64L << 20;

    /// <summary>Longest wait for another process (or client) downloading the same file to finish. Default 30 min.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// Message handler to send requests through (a proxy, an <c>IHttpClientFactory</c> handler, tests). It must not
    /// follow redirects itself (the client reads the Hub's headers before the redirect to the CDN, and keeps the token
    /// away from the CDN), nor retry: the client retries, resumes and times out on its own (adding a retrying handler
    /// multiplies the attempts). The client does not dispose it.
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>Where progress and decisions are logged. Default: nowhere.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>
    /// Environment variable lookup; <c>null</c> reads the process environment. Lets a host or a test supply its own.
    /// </summary>
    public Func<string, string?>? EnvironmentVariables { get; init; }
}
