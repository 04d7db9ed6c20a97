namespace Bert.Sharp.Inference;

/// <summary>
/// One text as token classification serves it: the encoded row, and for each token its piece, its UTF-16 range in the text,
/// whether it is a special token and whether it continues a word (Hugging Face's pipeline rule for the tokenizer's kind).
/// </summary>
internal sealed record TokenizedRow(EncodedText Encoded, string[] Pieces, TokenOffset[] Offsets, bool[] Special, bool[] Subword)
{
    /// <summary>What the model said about each token (<paramref name="probabilitiesOf"/>: the label probabilities of token <c>t</c>), as the entity aggregation reads it.</summary>
    public TokenClassification.TokenPrediction[] Predictions(Func<int, float[]> probabilitiesOf)
    {
        ArgumentNullException.ThrowIfNull(probabilitiesOf);
        var tokens = new TokenClassification.TokenPrediction[Pieces.Length];
        for (int t = 0; t < tokens.Length; t++)
        {
            tokens[t] = new TokenClassification.TokenPrediction(Pieces[t], Offsets[t].Start, Offsets[t].End, Special[t], Subword[t], probabilitiesOf(t));
        }

        return tokens;
    }
}
