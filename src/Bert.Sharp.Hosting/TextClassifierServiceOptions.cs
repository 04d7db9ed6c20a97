namespace Bert.Sharp.Hosting;

/// <summary>
/// How <c>services.AddTextClassifier(...)</c> loads and serves a classifier. Bind it from configuration (section
/// <see cref="SectionName"/>) and/or set it in code; it is validated when the host starts.
/// </summary>
/// <example>
/// <code language="json">
/// "TextClassifier": { "ModelDirectory": "models/sentiment", "MaxBatchSize": 32, "MaxDelay": "00:00:00", "QueueCapacity": 1024 }
/// </code>
/// </example>
public sealed class TextClassifierServiceOptions
{
    /// <summary>The configuration section read by the overloads that take an <c>IConfiguration</c> root.</summary>
    public const string SectionName = "TextClassifier";

    /// <summary>The folder of the fine-tuned classifier (config, weights, tokenizer files). Required; must exist when the host starts.</summary>
    public string? ModelDirectory { get; set; }

    /// <summary>
    /// Coalesce concurrent requests into batches (<see cref="BatchingTextClassifier"/>). Default <c>true</c>; turn it
    /// off only to compare, or when a single caller sends whole batches itself. Metrics and queue health need it on.
    /// </summary>
    public bool EnableBatching { get; set; } = true;

    /// <summary>The most requests one batch holds (<see cref="MicroBatcherOptions.MaxBatchSize"/>). Default 32.</summary>
    public int MaxBatchSize { get; set; } = 32;

    /// <summary>How long a lone request may wait for company (<see cref="MicroBatcherOptions.MaxDelay"/>). Default 0: never wait.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.Zero;

    /// <summary>The most requests that may wait; more are refused with <see cref="QueueFullException"/> (<see cref="MicroBatcherOptions.QueueCapacity"/>). Default 1024.</summary>
    public int QueueCapacity { get; set; } = 1024;

    /// <summary>Names the classifier in logs and metrics (tag <c>bert_sharp.batcher.name</c>). Default <c>text-classifier</c>.</summary>
    public string Name { get; set; } = "text-classifier";

    /// <summary>The health check reports Degraded once the queue holds this share of <see cref="QueueCapacity"/> (0..1]. Default 0.8.</summary>
    public double DegradedQueueRatio { get; set; } = 0.8;

    /// <summary>Load the model while the host starts (a broken model then fails the start, and the first request is not slow). Default <c>true</c>.</summary>
    public bool LoadOnStart { get; set; } = true;

    /// <summary>The batching part of these options.</summary>
    public MicroBatcherOptions ToBatcherOptions() => new()
    {
        MaxBatchSize = MaxBatchSize,
        MaxDelay = MaxDelay,
        QueueCapacity = QueueCapacity,
        Name = Name,
    };
}
