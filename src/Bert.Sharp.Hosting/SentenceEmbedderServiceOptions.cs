namespace Bert.Sharp.Hosting;

/// <summary>
/// How <c>services.AddSentenceEmbedder(...)</c> (or <c>AddKeyedSentenceEmbedder</c>) loads and serves a sentence
/// embedder. Bind it from configuration (section <see cref="SectionName"/>) and/or set it in code.
/// </summary>
public sealed class SentenceEmbedderServiceOptions : BertServiceOptions
{
    /// <summary>The configuration section conventionally holding these options.</summary>
    public const string SectionName = "SentenceEmbedder";

    /// <summary>Options with the defaults; <see cref="BertServiceOptions.Name"/> is <c>sentence-embedder</c>.</summary>
    public SentenceEmbedderServiceOptions()
        : base("sentence-embedder")
    {
    }

    internal override string Section => SectionName;
}
