using Bert.Sharp.Modeling;

namespace Bert.Sharp.Checkpoints;

/// <summary>
/// The state-dict keys and shapes a <see cref="BertModel"/> built from a config has, computed from the config alone, so
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
        long h = config.HiddenSize;
        long i = config.IntermediateSize;
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal)
        {
            ["embeddings.word_embeddings.weight"] = [config.VocabSize, h],
            ["embeddings.position_embeddings.weight"] = [config.MaxPositionEmbeddings, h],
            ["embeddings.token_type_embeddings.weight"] = [config.TypeVocabSize, h],
            ["embeddings.LayerNorm.weight"] = [h],
            ["embeddings.LayerNorm.bias"] = [h],
        };
        for (int layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            string p = $"encoder.layer.{layer}.";
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

        shapes[PoolerPrefix + "dense.weight"] = [h, h];
        shapes[PoolerPrefix + "dense.bias"] = [h];
        return shapes;
    }
}
