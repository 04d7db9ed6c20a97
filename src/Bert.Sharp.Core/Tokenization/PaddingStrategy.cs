namespace Bert.Sharp;

/// <summary>How <see cref="BertTokenizer.EncodeBatch(IReadOnlyList{string}, EncodingOptions?)"/> pads sequences.</summary>
public enum PaddingStrategy
{
    /// <summary>No padding: rows keep their own lengths (a ragged batch that cannot become one tensor).</summary>
    None,

    /// <summary>Pad every row to the longest row of the batch: the cheapest rectangular batch.</summary>
    Longest,

    /// <summary>Pad every row to <see cref="EncodingOptions.MaxLength"/> (or the model's maximum length): fixed
    /// shapes, for example for compiled or exported models.</summary>
    MaxLength,
}
