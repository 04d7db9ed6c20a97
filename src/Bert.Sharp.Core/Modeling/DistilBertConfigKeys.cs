using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bert.Sharp.Modeling;

/// <summary>
/// DistilBERT's <c>config.json</c> keys (Hugging Face's <c>DistilBertConfig</c>) and BERT's equivalents: read into a
/// <see cref="BertConfig"/> and written back, so a DistilBERT folder saved here loads in transformers unchanged.
/// </summary>
internal static class DistilBertConfigKeys
{
    /// <summary>Keys every DistilBERT config holds.</summary>
    public static IReadOnlyList<string> RequiredKeys { get; } = ["vocab_size", "dim", "n_layers", "n_heads", "hidden_dim"];

    /// <summary>
    /// The BERT-keyed JSON of a DistilBERT config object: renamed keys, no token types, LayerNorm epsilon 1e-12 (fixed in
    /// DistilBERT's code), Hugging Face's defaults for absent keys. Other keys are kept.
    /// </summary>
    /// <exception cref="InvalidDataException">A required key is missing; the message names the source and key.</exception>
    /// <exception cref="NotSupportedException"><c>sinusoidal_pos_embds</c> is true (fixed sinusoidal positions are not built here).</exception>
    public static string FromDistilBert(JsonElement root, string source)
    {
        FamilyConfigKeys.DistilBert.RequireKeys(root, source, RequiredKeys);
        if (root.TryGetProperty("sinusoidal_pos_embds", out JsonElement sinusoidal) && sinusoidal.ValueKind == JsonValueKind.True)
        {
            throw new NotSupportedException($"{source}: key 'sinusoidal_pos_embds' is true; this library builds DistilBERT with learned position embeddings only (sinusoidal_pos_embds false).");
        }

        JsonObject node = FamilyConfigKeys.DistilBert.ToBertKeys(root);
        node["type_vocab_size"] = 0;
        node["layer_norm_eps"] = 1e-12;
        node.TryAdd("hidden_act", "gelu");
        node.TryAdd("hidden_dropout_prob", 0.1);
        node.TryAdd("attention_probs_dropout_prob", 0.1);
        node.TryAdd("classifier_dropout", 0.2);
        return node.ToJsonString();
    }

    /// <summary>The DistilBERT-keyed form of BERT-keyed config JSON (what <see cref="BertConfig.ToJson"/> writes for DistilBERT).</summary>
    public static string ToDistilBert(string bertJson) =>
        FamilyConfigKeys.DistilBert.FromBertKeys(bertJson, node => node["sinusoidal_pos_embds"] = false);
}
