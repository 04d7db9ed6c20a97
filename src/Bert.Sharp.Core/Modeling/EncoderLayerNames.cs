namespace Bert.Sharp;

/// <summary>
/// The checkpoint names of the parts of one encoder layer in each <see cref="EncoderLayerLayout"/>, relative to the
/// layer (<c>encoder.layer.N.</c>): the same parts — four attention projections, a norm, the feed-forward pair, a norm —
/// under BERT's and DistilBERT's names. The shapes a config implies and the LoRA targets both read them from here.
/// </summary>
/// <param name="Query">The query projection.</param>
/// <param name="Key">The key projection.</param>
/// <param name="Value">The value projection.</param>
/// <param name="AttentionOutput">The attention's output projection.</param>
/// <param name="AttentionNorm">The layer norm after attention.</param>
/// <param name="Intermediate">The feed-forward's first (widening) linear layer.</param>
/// <param name="Output">The feed-forward's second linear layer.</param>
/// <param name="OutputNorm">The layer norm after the feed-forward.</param>
internal sealed record EncoderLayerNames(string Query, string Key, string Value, string AttentionOutput, string AttentionNorm, string Intermediate, string Output, string OutputNorm)
{
    /// <summary>BERT's layer (RoBERTa's too).</summary>
    public static EncoderLayerNames BertLayer { get; } = new("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm");

    /// <summary>DistilBERT's layer.</summary>
    public static EncoderLayerNames DistilBertLayer { get; } = new("attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin", "sa_layer_norm", "ffn.lin1", "ffn.lin2", "output_layer_norm");

    /// <summary>The four attention projections, query first.</summary>
    public IEnumerable<string> Projections => [Query, Key, Value, AttentionOutput];

    /// <summary>The names of a layout's layer.</summary>
    public static EncoderLayerNames Of(EncoderLayerLayout layout) => layout == EncoderLayerLayout.DistilBert ? DistilBertLayer : BertLayer;
}
