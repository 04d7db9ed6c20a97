namespace Bert.Sharp;

/// <summary>How an encoder family numbers positions when the caller gives no position ids.</summary>
public enum PositionNumbering
{
    /// <summary>0, 1, 2, … for every sequence (BERT, DistilBERT).</summary>
    FromZero,

    /// <summary>
    /// RoBERTa's: each real token gets <c>pad_token_id</c> + its count among the real tokens so far, each padding token
    /// <c>pad_token_id</c> (Hugging Face's <c>create_position_ids_from_input_ids</c>).
    /// </summary>
    AfterPadding,

    /// <summary>ModernBERT's: no position table; queries and keys are rotated (rotary embeddings) by their position 0, 1, 2, … in the padded sequence.</summary>
    Rotary,
}
