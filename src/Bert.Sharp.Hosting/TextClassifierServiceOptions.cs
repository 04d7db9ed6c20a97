namespace Bert.Sharp.Hosting;

/// <summary>
/// How <c>services.AddTextClassifier(...)</c> (or <c>AddKeyedTextClassifier</c>) loads and serves a classifier. Bind it
/// from configuration (section <see cref="SectionName"/>) and/or set it in code; it is validated when the host starts.
/// </summary>
/// <remarks>New options have the defaults; <see cref="BertServiceOptions.Name"/> is <c>text-classifier</c>.</remarks>
/// <example>
/// <code language="json">
/// "TextClassifier": { "ModelDirectory": "models/sentiment", "MaxBatchSize": 32, "MaxDelay": "00:00:00", "QueueCapacity": 1024 }
/// </code>
/// </example>
public sealed class TextClassifierServiceOptions() : BertServiceOptions("text-classifier", TextClassifierServiceOptions.SectionName)
{
    /// <summary>The configuration section read by the overloads that take an <c>IConfiguration</c> root.</summary>
    public const string SectionName = "TextClassifier";
}
