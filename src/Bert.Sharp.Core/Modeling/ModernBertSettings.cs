using System.Globalization;
using System.Text.Json;

namespace Bert.Sharp.Modeling;

/// <summary>
/// The ModernBERT settings a <see cref="BertConfig"/> does not model as properties, read from its
/// <see cref="BertConfig.ExtensionData"/> with <c>ModernBertConfig</c>'s defaults: biases, the attention pattern (which layers
/// attend globally, the local window), the rotary bases, the classification head's pooling, bias and activation.
/// </summary>
/// <remarks>
/// Both config formats of transformers are read: the older keys (<c>global_rope_theta</c>, <c>local_rope_theta</c>) and the
/// newer ones (<c>layer_types</c>, <c>rope_parameters</c> per <c>full_attention</c> / <c>sliding_attention</c>). As in
/// transformers, a layer attends within the window when <c>layer % global_attn_every_n_layers != 0</c>, and takes the rotary
/// base of its entry in <c>layer_types</c>.
/// </remarks>
internal sealed record ModernBertSettings
{
    private const string Full = "full_attention";
    private const string Sliding = "sliding_attention";

    public bool NormBias { get; init; }

    public bool AttentionBias { get; init; }

    public bool MlpBias { get; init; }

    /// <summary>The whole local window (<c>local_attention</c>); a local layer's token sees <c>local_attention / 2</c> positions each side.</summary>
    public int LocalAttention { get; init; } = 128;

    /// <summary><c>global_attn_every_n_layers</c>: layers 0, n, 2n, ... attend globally.</summary>
    public int GlobalAttentionEveryNLayers { get; init; } = 3;

    public double GlobalRopeTheta { get; init; } = 160_000.0;

    public double LocalRopeTheta { get; init; } = 10_000.0;

    /// <summary><c>full_attention</c> or <c>sliding_attention</c> per layer (the rotary base each layer takes).</summary>
    public IReadOnlyList<string> LayerTypes { get; init; } = [];

    /// <summary><c>cls</c> or <c>mean</c>.</summary>
    public string ClassifierPooling { get; init; } = "cls";

    public bool ClassifierBias { get; init; }

    public string ClassifierActivation { get; init; } = "gelu";

    public double EmbeddingDropout { get; init; }

    /// <summary>Whether layer <paramref name="layer"/> attends to every position (else within the local window).</summary>
    public bool IsGlobal(int layer) => layer % GlobalAttentionEveryNLayers == 0;

    /// <summary>The rotary base of layer <paramref name="layer"/>.</summary>
    public double RopeTheta(int layer) => LayerTypes[layer] == Full ? GlobalRopeTheta : LocalRopeTheta;

    /// <summary>Reads and checks the settings of <paramref name="config"/>.</summary>
    /// <exception cref="NotSupportedException">A setting this library does not reproduce (a rotary scaling, an unknown activation or pooling); the message names the key.</exception>
    /// <exception cref="ArgumentException">A value of the wrong type or range; the message names the key.</exception>
    public static ModernBertSettings Read(BertConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        IDictionary<string, JsonElement> keys = config.ExtensionData ?? new Dictionary<string, JsonElement>();
        int every = Int(keys, "global_attn_every_n_layers", 3);
        if (every <= 0)
        {
            throw new ArgumentException($"global_attn_every_n_layers must be positive, got {every}.");
        }

        int window = Int(keys, "local_attention", 128);
        if (window < 0)
        {
            throw new ArgumentException($"local_attention must be non-negative, got {window}.");
        }

        if (config.NumAttentionHeads > 0 && config.HeadSize % 2 != 0)
        {
            // Rotary embeddings rotate the two halves of each head; transformers would fail inside its forward.
            throw new NotSupportedException($"config.json keys 'hidden_size' ({config.HiddenSize}) and 'num_attention_heads' ({config.NumAttentionHeads}) give heads of {config.HeadSize} dimensions; ModernBERT's rotary embeddings need an even head size.");
        }

        if (keys.TryGetValue("rope_scaling", out JsonElement scaling) && scaling.ValueKind != JsonValueKind.Null)
        {
            throw new NotSupportedException($"config.json key 'rope_scaling' is {scaling.GetRawText()}; this library builds ModernBERT with default rotary embeddings only.");
        }

        double globalTheta = Number(keys, "global_rope_theta") ?? 160_000.0;
        double localTheta = keys.ContainsKey("local_rope_theta") ? Number(keys, "local_rope_theta") ?? globalTheta : 10_000.0;
        if (keys.TryGetValue("rope_parameters", out JsonElement rope) && rope.ValueKind == JsonValueKind.Object)
        {
            globalTheta = RopeBase(rope, Full) ?? globalTheta;
            localTheta = RopeBase(rope, Sliding) ?? localTheta;
        }

        string[] layerTypes = [.. Enumerable.Range(0, config.NumHiddenLayers).Select(i => i % every == 0 ? Full : Sliding)];
        if (keys.TryGetValue("layer_types", out JsonElement types) && types.ValueKind != JsonValueKind.Null)
        {
            if (types.ValueKind != JsonValueKind.Array || types.GetArrayLength() != config.NumHiddenLayers
                || types.EnumerateArray().Any(t => t.ValueKind != JsonValueKind.String || t.GetString() is not (Full or Sliding)))
            {
                throw new NotSupportedException($"config.json key 'layer_types' is {types.GetRawText()}; expected {config.NumHiddenLayers} entries of '{Full}' or '{Sliding}'.");
            }

            layerTypes = [.. types.EnumerateArray().Select(t => t.GetString()!)];
        }

        string pooling = Text(keys, "classifier_pooling", "cls");
        if (pooling is not ("cls" or "mean"))
        {
            throw new NotSupportedException($"config.json key 'classifier_pooling' is '{pooling}'; ModernBERT pools by 'cls' or 'mean'.");
        }

        string classifierActivation = Text(keys, "classifier_activation", "gelu");
        if (!ArchitectureNames.Activations.Contains(classifierActivation))
        {
            throw new NotSupportedException($"config.json key 'classifier_activation' is '{classifierActivation}'; this library builds {string.Join(", ", ArchitectureNames.Activations)}.");
        }

        double embeddingDropout = Number(keys, "embedding_dropout") ?? 0.0;
        if (!(embeddingDropout >= 0 && embeddingDropout < 1))
        {
            throw new ArgumentException($"embedding_dropout must be in [0, 1), got {embeddingDropout}.");
        }

        return new ModernBertSettings
        {
            NormBias = Bool(keys, "norm_bias"),
            AttentionBias = Bool(keys, "attention_bias"),
            MlpBias = Bool(keys, "mlp_bias"),
            LocalAttention = window,
            GlobalAttentionEveryNLayers = every,
            GlobalRopeTheta = globalTheta,
            LocalRopeTheta = localTheta,
            LayerTypes = layerTypes,
            ClassifierPooling = pooling,
            ClassifierBias = Bool(keys, "classifier_bias"),
            ClassifierActivation = classifierActivation,
            EmbeddingDropout = embeddingDropout,
        };
    }

    private static double? RopeBase(JsonElement rope, string layerType)
    {
        if (!rope.TryGetProperty(layerType, out JsonElement entry) || entry.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (entry.ValueKind != JsonValueKind.Object)
        {
            throw new NotSupportedException($"config.json key 'rope_parameters.{layerType}' is {entry.GetRawText()}; expected an object.");
        }

        foreach (JsonProperty property in entry.EnumerateObject())
        {
            bool plain = property.Name switch
            {
                "rope_type" or "type" => property.Value.ValueKind == JsonValueKind.String && property.Value.GetString() == "default",
                "rope_theta" => true,
                _ => property.Value.ValueKind == JsonValueKind.Null,
            };
            if (!plain)
            {
                throw new NotSupportedException($"config.json key 'rope_parameters.{layerType}.{property.Name}' is {property.Value.GetRawText()}; this library builds ModernBERT with default rotary embeddings (rope_type 'default', rope_theta) only.");
            }
        }

        return entry.TryGetProperty("rope_theta", out JsonElement theta) && theta.ValueKind == JsonValueKind.Number ? theta.GetDouble() : null;
    }

    private static bool Bool(IDictionary<string, JsonElement> keys, string key) =>
        keys.TryGetValue(key, out JsonElement value) && value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False or JsonValueKind.Null => false,
            _ => throw new ArgumentException($"{key} must be true or false, got {value.GetRawText()}."),
        };

    private static int Int(IDictionary<string, JsonElement> keys, string key, int fallback) =>
        !keys.TryGetValue(key, out JsonElement value) || value.ValueKind == JsonValueKind.Null ? fallback
        : value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int parsed) ? parsed
        : throw new ArgumentException($"{key} must be an integer, got {value.GetRawText()}.");

    private static double? Number(IDictionary<string, JsonElement> keys, string key) =>
        !keys.TryGetValue(key, out JsonElement value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.Number ? value.GetDouble()
        : throw new ArgumentException($"{key} must be a number, got {value.GetRawText()}.");

    private static string Text(IDictionary<string, JsonElement> keys, string key, string fallback) =>
        !keys.TryGetValue(key, out JsonElement value) || value.ValueKind == JsonValueKind.Null ? fallback
        : value.ValueKind == JsonValueKind.String ? value.GetString()!
        : throw new ArgumentException($"{key} must be a string, got {value.GetRawText()}.");

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"window {LocalAttention}, global every {GlobalAttentionEveryNLayers}, theta {GlobalRopeTheta}/{LocalRopeTheta}");
}
