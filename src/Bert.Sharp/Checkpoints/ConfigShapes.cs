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

        for (int layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            string p = $"{family.EncoderAttribute}.layer.{layer}.";
            if (family.LayerLayout == EncoderLayerLayout.DistilBert)
            {
                foreach (string projection in new[] { "attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin" })
                {
                    shapes[$"{p}{projection}.weight"] = [h, h];
                    shapes[$"{p}{projection}.bias"] = [h];
                }

                shapes[$"{p}sa_layer_norm.weight"] = [h];
                shapes[$"{p}sa_layer_norm.bias"] = [h];
                shapes[$"{p}ffn.lin1.weight"] = [i, h];
                shapes[$"{p}ffn.lin1.bias"] = [i];
                shapes[$"{p}ffn.lin2.weight"] = [h, i];
                shapes[$"{p}ffn.lin2.bias"] = [h];
                shapes[$"{p}output_layer_norm.weight"] = [h];
                shapes[$"{p}output_layer_norm.bias"] = [h];
                continue;
            }

            foreach (string projection in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
            {
                shapes[$"{p}{projection}.weight"] = [h, h];
                shapes[$"{p}{projection}.bias"] = [h];
            }

            shapes[$"{p}attention.output.LayerNorm.weight"] = [h];
            shapes[$"{p}attention.output.LayerNorm.bias"] = [h];
            shapes[$"{p}intermediate.dense.weight"] = [i, h];
            shapes[$"{p}intermediate.dense.bias"] = [i];
            shapes[$"{p}output.dense.weight"] = [h, i];
            shapes[$"{p}output.dense.bias"] = [h];
            shapes[$"{p}output.LayerNorm.weight"] = [h];
            shapes[$"{p}output.LayerNorm.bias"] = [h];
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
