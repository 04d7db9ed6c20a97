namespace ClassifierApi;

/// <summary>Request limits of the API (configuration section <c>ClassifierApi</c>).</summary>
public sealed class ApiLimits
{
    /// <summary>The most texts one <c>POST /classify/batch</c> may carry; more is a 400.</summary>
    public int MaxBatchTexts { get; set; } = 64;

    /// <summary>
    /// Largest request body in bytes; a larger one is refused with 413. Default 4 MiB: a 1 MB text fits with room for
    /// JSON escapes; the tokenizer truncates any text to the model's 512 tokens anyway.
    /// </summary>
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// The most characters one request may carry (all its texts together); more is answered 413 with problem details
    /// before anything is tokenized. Default 1,048,576: the tested 1 MB single text fits, while a batch of 64 × 60 KB
    /// texts (3.8 M characters, 20 s of CPU in issue 21) is refused.
    /// </summary>
    public int MaxBatchCharacters { get; set; } = 1024 * 1024;

    /// <summary>
    /// Time a client has to send all request headers (Kestrel's <c>RequestHeadersTimeout</c>). Default 10 s (Kestrel's
    /// is 30 s): headers are a few hundred bytes, so a client dripping them slowly is holding a connection, not uploading.
    /// </summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an idle keep-alive connection stays open (Kestrel's <c>KeepAliveTimeout</c>). Default 30 s (Kestrel's is 130 s): idle connections cost memory and a connection slot.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The slowest request body accepted, in bytes per second, after <see cref="MinRequestBodyGracePeriod"/> (Kestrel's
    /// <c>MinRequestBodyDataRate</c>); a slower one is cut with 408. Default 240 B/s (Kestrel's): a 4 MiB body still
    /// arrives from any real client, a 1 byte / 5 s drip is closed after the grace period.
    /// </summary>
    public double MinRequestBodyBytesPerSecond { get; set; } = 240;

    /// <summary>How long a body may start slower than <see cref="MinRequestBodyBytesPerSecond"/> (must be over 1 s: Kestrel checks once a second). Default 5 s.</summary>
    public TimeSpan MinRequestBodyGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The most connections open at once (Kestrel's <c>MaxConcurrentConnections</c>); more are refused at accept.
    /// Default 1,000: twice the 500 concurrent clients tested in issue 21; the work itself is bounded by the queue.
    /// </summary>
    public long MaxConcurrentConnections { get; set; } = 1000;

    /// <summary>Seconds a client should wait before retrying after a 503 (the <c>Retry-After</c> header).</summary>
    public int RetryAfterSeconds { get; set; } = 1;
}
