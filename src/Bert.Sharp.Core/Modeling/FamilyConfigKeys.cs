using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bert.Sharp.Modeling;

/// <summary>
/// How one encoder family's <c>config.json</c> keys map onto BERT's: the keys it names differently and the BERT keys it has
/// no counterpart of. <see cref="BertConfig"/> reads every family through BERT's keys, so a folder is renamed on the way in
/// and back on the way out (a saved folder keeps the family's own keys and loads in transformers unchanged).
/// </summary>
/// <param name="family">The family's name, for messages (<c>DistilBERT</c>).</param>
/// <param name="renames">Family key → BERT key.</param>
/// <param name="bertOnly">Keys of a BERT config the family has no counterpart of; dropped both ways.</param>
internal sealed class FamilyConfigKeys(string family, IReadOnlyList<(string Family, string Bert)> renames, IReadOnlyList<string> bertOnly)
{
    /// <summary>DistilBERT (Hugging Face's <c>DistilBertConfig</c>); its LayerNorm epsilon is fixed in its code.</summary>
    public static FamilyConfigKeys DistilBert { get; } = new(
        "DistilBERT",
        [
            ("dim", "hidden_size"),
            ("n_layers", "num_hidden_layers"),
            ("n_heads", "num_attention_heads"),
            ("hidden_dim", "intermediate_size"),
            ("activation", "hidden_act"),
            ("dropout", "hidden_dropout_prob"),
            ("attention_dropout", "attention_probs_dropout_prob"),
            ("seq_classif_dropout", "classifier_dropout"),
        ],
        bertOnly: ["type_vocab_size", "layer_norm_eps", "position_embedding_type"]);

    /// <summary>ModernBERT (Hugging Face's <c>ModernBertConfig</c>); the keys BERT has no counterpart of stay in <see cref="BertConfig.ExtensionData"/>.</summary>
    public static FamilyConfigKeys ModernBert { get; } = new(
        "ModernBERT",
        [
            ("hidden_activation", "hidden_act"),
            ("norm_eps", "layer_norm_eps"),
            ("attention_dropout", "attention_probs_dropout_prob"),
            ("mlp_dropout", "hidden_dropout_prob"),
        ],
        bertOnly: ["type_vocab_size", "position_embedding_type"]);

    /// <summary>Refuses a config without one of <paramref name="required"/> (absent or null).</summary>
    /// <exception cref="InvalidDataException">A key is missing; the message names <paramref name="source"/> and the key.</exception>
    public void RequireKeys(JsonElement root, string source, IReadOnlyList<string> required)
    {
        foreach (string key in required)
        {
            if (!root.TryGetProperty(key, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
            {
                throw new InvalidDataException($"{source} lacks the required key '{key}' (every {family} config.json holds {string.Join(", ", required)}).");
            }
        }
    }

    /// <summary>
    /// A copy of the family's config object under BERT's keys: each renamed key moved (a null value counts as absent, so the
    /// caller's default applies), a BERT key of the same name the family does not use dropped, the BERT-only keys dropped.
    /// </summary>
    public JsonObject ToBertKeys(JsonElement root)
    {
        JsonObject node = JsonObject.Create(root) is { } parsed ? (JsonObject)parsed.DeepClone() : [];
        foreach ((string own, string bert) in renames)
        {
            node.Remove(bert);
            if (node.TryGetPropertyValue(own, out JsonNode? value))
            {
                node.Remove(own);
                if (value is not null)
                {
                    node[bert] = value;
                }
            }
        }

        RemoveBertOnly(node);
        return node;
    }

    /// <summary>BERT-keyed config JSON under the family's keys, indented as <c>config.json</c> is written.</summary>
    /// <param name="bertJson">What <see cref="BertConfig"/> serialises.</param>
    /// <param name="finish">Family keys to set after renaming, or <c>null</c>.</param>
    public string FromBertKeys(string bertJson, Action<JsonObject>? finish = null)
    {
        JsonObject node = JsonNode.Parse(bertJson)!.AsObject();
        foreach ((string own, string bert) in renames)
        {
            if (node.TryGetPropertyValue(bert, out JsonNode? value))
            {
                node.Remove(bert);
                node[own] = value;
            }
        }

        RemoveBertOnly(node);
        finish?.Invoke(node);
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private void RemoveBertOnly(JsonObject node)
    {
        foreach (string key in bertOnly)
        {
            node.Remove(key);
        }
    }
}
