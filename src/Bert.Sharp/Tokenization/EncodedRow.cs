namespace Bert.Sharp.Tokenization;

/// <summary>
/// One assembled sequence before padding: <c>[CLS] A [SEP]</c> or <c>[CLS] A [SEP] B [SEP]</c>, with offsets.
/// </summary>
/// <param name="Ids">Token ids including the special tokens.</param>
/// <param name="Starts">Start offset of each token (0 for special tokens).</param>
/// <param name="Ends">End offset of each token (0 for special tokens).</param>
/// <param name="SecondStart">Index of the first token of the second text's part (token type 1); the length when there is no pair.</param>
/// <param name="Sample">Index of the input this row comes from (several rows per input with overflow windows).</param>
internal sealed record EncodedRow(int[] Ids, int[] Starts, int[] Ends, int SecondStart, int Sample)
{
    /// <summary>Number of tokens.</summary>
    public int Length => Ids.Length;

    /// <summary>True when the token at <paramref name="index"/> is a [CLS]/[SEP] added around the texts.</summary>
    public bool IsAddedSpecial(int index) =>
        index == 0 || index == Ids.Length - 1 || (SecondStart < Ids.Length && index == SecondStart - 1);
}
