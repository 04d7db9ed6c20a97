using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bert.Sharp.Modeling;

/// <summary>
/// ModernBERT's <c>config.json</c> keys (Hugging Face's <c>ModernBertConfig</c>) and BERT's equivalents: read into a
/// <see cref="BertConfig"/> and written back, so a ModernBERT folder saved here loads in transformers unchanged. The keys
/// BERT has no counterpart of (<c>norm_bias</c>, <c>local_attention</c>, <c>rope_parameters</c>, ...) stay in
/// <see cref="BertConfig.ExtensionData"/> and are read by <see cref="ModernBertSettings"/>.
/// </summary>
internal static class ModernBertConfigKeys
{
    /// <summary>
    /// The BERT-keyed JSON of a ModernBERT config object: renamed keys, no token types, Hugging Face's defaults for absent
    /// keys (<c>ModernBertConfig</c>'s: GELU, norm epsilon 1e-5, no dropout, 8,192 positions, padding id 50283). Other keys
    /// are kept. Everything the library does not reproduce is refused here, naming the key.
    /// </summary>
    /// <exception cref="InvalidDataException">A required key is missing; the message names the source and key.</exception>
    /// <exception cref="NotSupportedException">An activation, pooling or rotary scaling this library does not build; the message names the key.</exception>
    public static string FromModernBert(JsonElement root, string source)
    {
        FamilyConfigKeys.ModernBert.RequireKeys(root, source, BertConfigLimits.RequiredKeys);
        if (root.TryGetProperty("hidden_activation", out JsonElement activation) && activation.ValueKind != JsonValueKind.Null
            && (activation.ValueKind != JsonValueKind.String || !ArchitectureNames.Activations.Contains(activation.GetString()!)))
        {
            throw new NotSupportedException($"{source}: key 'hidden_activation' is {activation.GetRawText()}; this library builds ModernBERT with {string.Join(", ", ArchitectureNames.Activations)}.");
        }

        JsonObject node = FamilyConfigKeys.ModernBert.ToBertKeys(root);
        node["type_vocab_size"] = 0;
        node.TryAdd("hidden_act", "gelu");
        node.TryAdd("layer_norm_eps", 1e-5);
        node.TryAdd("hidden_dropout_prob", 0.0);
        node.TryAdd("attention_probs_dropout_prob", 0.0);
        node.TryAdd("max_position_embeddings", 8192);
        node.TryAdd("initializer_range", 0.02);
        node.TryAdd("pad_token_id", 50283);
        if (!node.TryGetPropertyValue("classifier_dropout", out JsonNode? classifierDropout) || classifierDropout is null)
        {
            node["classifier_dropout"] = 0.0;
        }

        return node.ToJsonString();
    }

    /// <summary>The ModernBERT-keyed form of BERT-keyed config JSON (what <see cref="BertConfig.ToJson"/> writes for ModernBERT).</summary>
    public static string ToModernBert(string bertJson) => FamilyConfigKeys.ModernBert.FromBertKeys(bertJson);
}
