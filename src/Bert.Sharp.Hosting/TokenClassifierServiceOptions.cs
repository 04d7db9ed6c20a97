namespace Bert.Sharp.Hosting;

/// <summary>
/// How <c>services.AddTokenClassifier(...)</c> (or <c>AddKeyedTokenClassifier</c>) loads and serves a token classifier
/// (named-entity recognition). Bind it from configuration (section <see cref="SectionName"/>) and/or set it in code.
/// </summary>
/// <remarks>New options have the defaults; <see cref="BertServiceOptions.Name"/> is <c>token-classifier</c>.</remarks>
public sealed class TokenClassifierServiceOptions() : BertServiceOptions("token-classifier", TokenClassifierServiceOptions.SectionName)
{
    /// <summary>The configuration section conventionally holding these options.</summary>
    public const string SectionName = "TokenClassifier";
}
