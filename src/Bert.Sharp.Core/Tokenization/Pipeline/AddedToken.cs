namespace Bert.Sharp.Tokenization;

/// <summary>An entry of <c>added_tokens</c>: matched in the raw text before the model sees it.</summary>
internal sealed record AddedToken(int Id, string Content, bool Special, bool LeftStrip, bool RightStrip);
