using Bert.Sharp.Modeling;

namespace Bert.Sharp.Checkpoints;

/// <summary>
/// The state-dict keys and shapes a <see cref="BertModel"/> built from a config has (per <see cref="EncoderFamily"/>), computed from the config alone, so
/// that a checkpoint can be compared with its <c>config.json</c> before the model (whose size the config alone decides)
/// is allocated. A test keeps this in step with the modules.
/// </summary>
internal static class ConfigShapes
{
    /// <summary>The keys of the pooler, which a checkpoint may lack.</summary>
    public const string PoolerPrefix = "pooler.";

    /// <summary>Every parameter of the encoder <paramref name="config"/> describes (pooler included), by key without the task prefix.</summary>
    public static Dictionary<string, long[]> Of(BertConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        EncoderFamily family = config.Family;
        long h = config.HiddenSize;
        long i = config.IntermediateSize;
        if (family.LayerLayout == EncoderLayerLayout.ModernBert)
        {
            return OfModernBert(config, h, i);
        }

        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal)
        {
            ["embeddings.word_embeddings.weight"] = [config.VocabSize, h],
            ["embeddings.position_embeddings.weight"] = [config.MaxPositionEmbeddings, h],
            ["embeddings.LayerNorm.weight"] = [h],
            ["embeddings.LayerNorm.bias"] = [h],
        };
        if (family.HasTokenTypes)
        {
            shapes["embeddings.token_type_embeddings.weight"] = [config.TypeVocabSize, h];
        }

        EncoderLayerNames names = EncoderLayerNames.Of(family.LayerLayout);
        for (int layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            string p = $"{family.EncoderAttribute}.layer.{layer}.";
            foreach (string projection in names.Projections)
            {
                shapes[$"{p}{projection}.weight"] = [h, h];
                shapes[$"{p}{projection}.bias"] = [h];
            }

            shapes[$"{p}{names.AttentionNorm}.weight"] = [h];
            shapes[$"{p}{names.AttentionNorm}.bias"] = [h];
            shapes[$"{p}{names.Intermediate}.weight"] = [i, h];
            shapes[$"{p}{names.Intermediate}.bias"] = [i];
            shapes[$"{p}{names.Output}.weight"] = [h, i];
            shapes[$"{p}{names.Output}.bias"] = [h];
            shapes[$"{p}{names.OutputNorm}.weight"] = [h];
            shapes[$"{p}{names.OutputNorm}.bias"] = [h];
        }

        if (!family.HasPooler)
        {
            return shapes;
        }

        shapes[PoolerPrefix + "dense.weight"] = [h, h];
        shapes[PoolerPrefix + "dense.bias"] = [h];
        return shapes;
    }

    // ModernBERT's base model: embeddings.{tok_embeddings,norm}, layers.N.{attn_norm (not in layer 0),attn.Wqkv,attn.Wo,mlp_norm,mlp.Wi,mlp.Wo}, final_norm; biases per norm_bias, attention_bias, mlp_bias.
    private static Dictionary<string, long[]> OfModernBert(BertConfig config, long h, long i)
    {
        ModernBertSettings settings = ModernBertSettings.Read(config);
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal)
        {
            ["embeddings.tok_embeddings.weight"] = [config.VocabSize, h],
        };
        void Norm(string name)
        {
            shapes[name + ".weight"] = [h];
            if (settings.NormBias)
            {
                shapes[name + ".bias"] = [h];
            }
        }

        void Linear(string name, long outputs, long inputs, bool bias)
        {
            shapes[name + ".weight"] = [outputs, inputs];
            if (bias)
            {
                shapes[name + ".bias"] = [outputs];
            }
        }

        Norm("embeddings.norm");
        for (int layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            string p = config.Family.LayerName(layer) + ".";
            if (layer > 0)
            {
                Norm(p + "attn_norm");
            }

            Linear(p + "attn.Wqkv", 3 * h, h, settings.AttentionBias);
            Linear(p + "attn.Wo", h, h, settings.AttentionBias);
            Norm(p + "mlp_norm");
            Linear(p + "mlp.Wi", 2 * i, h, settings.MlpBias);
            Linear(p + "mlp.Wo", h, i, settings.MlpBias);
        }

        Norm("final_norm");
        return shapes;
    }
}
