using System.Buffers;
using Microsoft.ML.Tokenizers;

namespace Bert.Sharp.Tokenization;

/// <summary>A <see cref="SubwordTokenizer"/> as a Microsoft.ML.Tokenizers <see cref="Tokenizer"/>: the ids of the text
/// without special tokens, offsets into the text passed in; a token budget keeps the leading tokens that fit.</summary>
internal sealed class SubwordTokenizerView(SubwordTokenizer tokenizer) : Tokenizer
{
    /// <inheritdoc />
    public override string Decode(IEnumerable<int> ids) => tokenizer.Decode(ids);

    /// <inheritdoc />
    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten)
    {
        int[] all = [.. ids];
        string text = tokenizer.Decode(all);
        idsConsumed = 0;
        charsWritten = 0;
        if (text.Length > destination.Length)
        {
            return OperationStatus.DestinationTooSmall;
        }

        text.CopyTo(destination);
        idsConsumed = all.Length;
        charsWritten = text.Length;
        return OperationStatus.Done;
    }

    /// <inheritdoc />
    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        string input = text ?? textSpan.ToString();
        var tokens = Kept(input, settings, out int consumed);
        return new EncodeResults<EncodedToken>
        {
            Tokens = tokens.Select(t => new EncodedToken(t.Id, tokenizer.IdToToken(t.Id) ?? string.Empty, new Range(t.Offset.Start, t.Offset.End))).ToArray(),
            CharsConsumed = consumed,
        };
    }

    /// <inheritdoc />
    protected override EncodeResults<int> EncodeToIds(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var tokens = Kept(text ?? textSpan.ToString(), settings, out int consumed);
        return new EncodeResults<int> { Tokens = tokens.Select(t => t.Id).ToArray(), CharsConsumed = consumed };
    }

    /// <inheritdoc />
    protected override int CountTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings) =>
        Kept(text ?? textSpan.ToString(), settings, out _).Count;

    /// <inheritdoc />
    protected override int GetIndexByTokenCount(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings, bool fromEnd, out string? normalizedText, out int tokenCount)
    {
        normalizedText = null;
        string input = text ?? textSpan.ToString();
        var all = tokenizer.EncodeWithOffsets(input);
        int budget = settings.MaxTokenCount > 0 ? settings.MaxTokenCount : int.MaxValue;
        if (all.Count <= budget)
        {
            tokenCount = all.Count;
            return fromEnd ? 0 : input.Length;
        }

        tokenCount = budget;
        return fromEnd ? (budget == 0 ? input.Length : all[all.Count - budget].Offset.Start) : (budget == 0 ? 0 : all[budget - 1].Offset.End);
    }

    private List<(int Id, TokenOffset Offset)> Kept(string input, EncodeSettings settings, out int consumed)
    {
        var all = tokenizer.EncodeWithOffsets(input);
        int budget = settings.MaxTokenCount > 0 ? settings.MaxTokenCount : int.MaxValue;
        var kept = all.Take(budget).ToList();
        consumed = kept.Count == all.Count ? input.Length : kept.Count == 0 ? 0 : kept[^1].Offset.End;
        return kept;
    }
}
