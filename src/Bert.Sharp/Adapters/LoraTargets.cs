namespace Bert.Sharp;

/// <summary>
/// The dense layers of each encoder layer that <see cref="FreezePolicy.LoRA(int, double, double, LoraTargets, IReadOnlyList{string}?)"/>
/// adds low-rank adapters to. Combine with <c>|</c>; the default is <see cref="Query"/> | <see cref="Value"/> (the LoRA paper's choice).
/// The names below are BERT's (RoBERTa's and XLM-R's too); DistilBERT's are <c>attention.q_lin</c>, <c>k_lin</c>, <c>v_lin</c>,
/// <c>out_lin</c>, <c>ffn.lin1</c>, <c>ffn.lin2</c>.
/// </summary>
/// <remarks>
/// ModernBERT packs query, key and value into one projection, <c>attn.Wqkv</c>: naming any of the three adapts that whole
/// layer (PEFT's <c>target_modules: ["Wqkv"]</c>), so on ModernBERT the default adapts the keys too, and an adapter read back
/// reports <c>Query | Key | Value</c>. Its other layers are <c>attn.Wo</c>, <c>mlp.Wi</c> and <c>mlp.Wo</c>.
/// </remarks>
[Flags]
public enum LoraTargets
{
    /// <summary>No layer.</summary>
    None = 0,

    /// <summary><c>attention.self.query</c>.</summary>
    Query = 1,

    /// <summary><c>attention.self.key</c>.</summary>
    Key = 2,

    /// <summary><c>attention.self.value</c>.</summary>
    Value = 4,

    /// <summary><c>attention.output.dense</c> (the projection after attention).</summary>
    AttentionOutput = 8,

    /// <summary><c>intermediate.dense</c> (the feed-forward expansion).</summary>
    Intermediate = 16,

    /// <summary><c>output.dense</c> (the feed-forward contraction).</summary>
    Output = 32,

    /// <summary>Query and value: the default.</summary>
    Default = Query | Value,

    /// <summary>Every dense layer of the encoder layers.</summary>
    AllLinear = Query | Key | Value | AttentionOutput | Intermediate | Output,
}
