namespace Bert.Sharp.Hosting;

/// <summary>
/// How <c>services.AddSentenceEmbedder(...)</c> (or <c>AddKeyedSentenceEmbedder</c>) loads and serves a sentence
/// embedder. Bind it from configuration (section <see cref="SectionName"/>) and/or set it in code.
/// </summary>
/// <remarks>New options have the defaults; <see cref="BertServiceOptions.Name"/> is <c>sentence-embedder</c>.</remarks>
public sealed class SentenceEmbedderServiceOptions() : BertServiceOptions("sentence-embedder", SentenceEmbedderServiceOptions.SectionName)
{
    /// <summary>The configuration section conventionally holding these options.</summary>
    public const string SectionName = "SentenceEmbedder";
}
