namespace Bert.Sharp.Hosting;

/// <summary>
/// What every served model shares: where it is loaded from, how concurrent requests are batched, and the request limits
/// of the endpoints <c>Map...</c> offers. <see cref="TextClassifierServiceOptions"/>, <see cref="TokenClassifierServiceOptions"/>
/// and <see cref="SentenceEmbedderServiceOptions"/> derive from it; bind them from configuration and/or set them in
/// code. They are validated when the host starts.
/// </summary>
public abstract class BertServiceOptions
{
    /// <summary>The default of <see cref="MaxTextsPerRequest"/>: 64.</summary>
    public const int DefaultMaxTextsPerRequest = 64;

    /// <summary>The default of <see cref="MaxCharactersPerRequest"/>: 262,144 (256 Ki) characters.</summary>
    public const int DefaultMaxCharactersPerRequest = 256 * 1024;

    private protected BertServiceOptions(string defaultName, string section)
    {
        Name = defaultName;
        Section = section;
    }

    /// <summary>The folder of the model (config, weights, tokenizer files). Required; must exist when the host starts.</summary>
    public string? ModelDirectory { get; set; }

    /// <summary>
    /// Coalesce concurrent requests into batches (a <see cref="MicroBatcher{TRequest, TResult}"/>). Default <c>true</c>;
    /// turn it off only to compare, or when a single caller sends whole batches itself. Metrics, queue length,
    /// in-flight count and last error in health need it on.
    /// </summary>
    public bool EnableBatching { get; set; } = true;

    /// <summary>The most requests one batch holds (<see cref="MicroBatcherOptions.MaxBatchSize"/>). Default 32.</summary>
    public int MaxBatchSize { get; set; } = 32;

    /// <summary>How long a lone request may wait for company (<see cref="MicroBatcherOptions.MaxDelay"/>). Default 0: never wait.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.Zero;

    /// <summary>The most requests that may wait; more are refused with <see cref="QueueFullException"/> (<see cref="MicroBatcherOptions.QueueCapacity"/>). Default 1024.</summary>
    public int QueueCapacity { get; set; } = 1024;

    /// <summary>
    /// Names the model in logs, health reports and metrics (tag <c>bert_sharp.batcher.name</c>). Default: the kind
    /// (<c>text-classifier</c>, <c>token-classifier</c>, <c>sentence-embedder</c>), or the service key for keyed registrations.
    /// </summary>
    public string Name { get; set; }

    /// <summary>The health check reports Degraded once the queue holds this share of <see cref="QueueCapacity"/> (0..1]. Default 0.8.</summary>
    public double DegradedQueueRatio { get; set; } = 0.8;

    /// <summary>Load the model while the host starts (a broken model then fails the start, and the first request is not slow). Default <c>true</c>.</summary>
    public bool LoadOnStart { get; set; } = true;

    /// <summary>
    /// The most texts one request to an endpoint mapped by Bert.Sharp.Hosting may carry (a batch body's <c>texts</c>);
    /// more is answered 400 with problem details. Default <see cref="DefaultMaxTextsPerRequest"/> (64): two full batches
    /// of the default <see cref="MaxBatchSize"/>, so one caller cannot hold the worker for long.
    /// </summary>
    public int MaxTextsPerRequest { get; set; } = DefaultMaxTextsPerRequest;

    /// <summary>
    /// The most characters (UTF-16 code units, all texts and text pairs of one request together) an endpoint mapped by
    /// Bert.Sharp.Hosting accepts; more is answered 413 with problem details before anything is tokenized. Default
    /// <see cref="DefaultMaxCharactersPerRequest"/> (262,144): 64 texts of 4,096 characters, more than the 512 tokens a
    /// BERT model reads of each (about 2,000–3,000 characters of English), while 64 × 60,000 characters (3.8 M, which
    /// cost 20 s of CPU in tokenization) is refused.
    /// </summary>
    public int MaxCharactersPerRequest { get; set; } = DefaultMaxCharactersPerRequest;

    /// <summary>The batching part of these options.</summary>
    /// <returns>New batcher options with <see cref="MaxBatchSize"/>, <see cref="MaxDelay"/>, <see cref="QueueCapacity"/> and <see cref="Name"/>.</returns>
    public MicroBatcherOptions ToBatcherOptions() => new()
    {
        MaxBatchSize = MaxBatchSize,
        MaxDelay = MaxDelay,
        QueueCapacity = QueueCapacity,
        Name = Name,
    };

    /// <summary>The configuration section these options are usually bound from (for messages).</summary>
    internal string Section { get; }
}
