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

    /// <summary>Seconds a client should wait before retrying after a 503 (the <c>Retry-After</c> header).</summary>
    public int RetryAfterSeconds { get; set; } = 1;
}
