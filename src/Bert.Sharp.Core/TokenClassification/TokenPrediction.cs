namespace Bert.Sharp.TokenClassification;

/// <summary>What the model said about one token of an encoded text: the input of <see cref="EntityAggregator"/>.</summary>
/// <param name="Piece">The word piece (<c>##soft</c>); used in messages only.</param>
/// <param name="Start">Index of the piece's first character in the original text.</param>
/// <param name="End">Index one past the piece's last character in the original text.</param>
/// <param name="IsSpecial">A special token (<c>[CLS]</c>, <c>[SEP]</c>, padding): skipped.</param>
/// <param name="IsSubword">
/// A continuation of the previous token's word (for WordPiece: the piece starts with <c>##</c>). Hugging Face sets it
/// to false for <c>[UNK]</c>, which stands for a whole word.
/// </param>
/// <param name="Probabilities">The softmax over the labels, indexed by label id.</param>
internal sealed record TokenPrediction(string Piece, int Start, int End, bool IsSpecial, bool IsSubword, float[] Probabilities);
