namespace Bert.Sharp.Onnx;

/// <summary>
/// The checkpoint names of one encoder layer's modules, relative to <c>{base}.{encoder}.layer.N.</c>: BERT's (RoBERTa and
/// XLM-R share them) and DistilBERT's.
/// </summary>
/// <param name="SelfAttention">The module holding the query, key and value projections.</param>
/// <param name="Projections">The query, key and value projections' names inside it.</param>
/// <param name="AttentionOutput">The attention output projection.</param>
/// <param name="AttentionNorm">The LayerNorm after attention.</param>
/// <param name="Intermediate">The first feed-forward projection.</param>
/// <param name="Output">The second feed-forward projection.</param>
/// <param name="OutputNorm">The LayerNorm after the feed-forward block.</param>
internal sealed record EncoderLayerNames(string SelfAttention, string[] Projections, string AttentionOutput, string AttentionNorm, string Intermediate, string Output, string OutputNorm)
{
    private static readonly EncoderLayerNames BertNames = new("attention.self", ["query", "key", "value"], "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm");

    private static readonly EncoderLayerNames DistilBertNames = new("attention", ["q_lin", "k_lin", "v_lin"], "attention.out_lin", "sa_layer_norm", "ffn.lin1", "ffn.lin2", "output_layer_norm");

    /// <summary>The names of <paramref name="family"/>'s layers.</summary>
    public static EncoderLayerNames Of(EncoderFamily family) => family.LayerLayout == EncoderLayerLayout.DistilBert ? DistilBertNames : BertNames;
}
