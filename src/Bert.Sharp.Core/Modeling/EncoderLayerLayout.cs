namespace Bert.Sharp;

/// <summary>How an encoder family builds and names its transformer layers.</summary>
public enum EncoderLayerLayout
{
    /// <summary>BERT's (and RoBERTa's): <c>attention.self.{query,key,value}</c>, <c>attention.output.{dense,LayerNorm}</c>, <c>intermediate.dense</c>, <c>output.{dense,LayerNorm}</c>.</summary>
    Bert,

    /// <summary>DistilBERT's: <c>attention.{q_lin,k_lin,v_lin,out_lin}</c>, <c>sa_layer_norm</c>, <c>ffn.{lin1,lin2}</c>, <c>output_layer_norm</c>.</summary>
    DistilBert,

    /// <summary>ModernBERT's: pre-LayerNorm <c>attn_norm</c> (none in layer 0), <c>attn.{Wqkv,Wo}</c> with rotary positions and local or global attention, <c>mlp_norm</c>, gated <c>mlp.{Wi,Wo}</c>.</summary>
    ModernBert,
}
