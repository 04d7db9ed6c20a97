namespace Bert.Sharp.Tokenization;

/// <summary>
/// Truncation, overflow windows and special tokens around one text or a pair, with Hugging Face's rules
/// (<c>truncate_encodings</c> and its <c>[CLS] $A [SEP] $B:1 [SEP]:1</c> template).
/// </summary>
internal static class SequenceAssembler
{
    /// <summary>Decides the rows for one input (which tokens of each text they keep) and adds them to
    /// <paramref name="rows"/>. Several rows come out only with overflow windows.</summary>
    public static void Assemble(
        TokenBuffer first,
        TokenBuffer? second,
        int sample,
        EncodingOptions options,
        int maxLength,
        List<RowSpan> rows) =>
        Assemble(first.Count, second?.Count, second is null ? 2 : 3, sample, options, maxLength, rows);

    /// <summary>The same for any template: texts of <paramref name="lengthA"/> and <paramref name="pairLength"/> tokens
    /// (<c>null</c>: a single text) around which the template adds <paramref name="added"/> special tokens.</summary>
    public static void Assemble(int lengthA, int? pairLength, int added, int sample, EncodingOptions options, int maxLength, List<RowSpan> rows)
    {
        bool pair = pairLength is not null;
        int lengthB = pairLength ?? 0;
        int keepA = lengthA;
        int keepB = lengthB;

        if (options.Truncation != TruncationStrategy.None)
        {
            int budget = Math.Max(0, maxLength - added);
            if (lengthA + lengthB > budget)
            {
                int toRemove = lengthA + lengthB - budget;
                switch (options.Truncation)
                {
                    case TruncationStrategy.LongestFirst when pair:
                        (keepA, keepB) = LongestFirst(lengthA, lengthB, budget);
                        break;
                    case TruncationStrategy.LongestFirst:
                        keepA = budget;
                        break;
                    case TruncationStrategy.OnlyFirst:
                        if (lengthA <= toRemove)
                        {
                            throw new InvalidOperationException(
                                $"Input {sample}: the first text has {lengthA} tokens and cannot be truncated by {toRemove} to fit max length {maxLength}; use LongestFirst or a larger MaxLength.");
                        }

                        keepA = lengthA - toRemove;
                        break;
                    case TruncationStrategy.OnlySecond:
                        if (!pair)
                        {
                            throw new InvalidOperationException(
                                $"Input {sample}: truncation OnlySecond needs a second text, but none was given.");
                        }

                        if (lengthB <= toRemove)
                        {
                            throw new InvalidOperationException(
                                $"Input {sample}: the second text has {lengthB} tokens and cannot be truncated by {toRemove} to fit max length {maxLength}; use LongestFirst or a larger MaxLength.");
                        }

                        keepB = lengthB - toRemove;
                        break;
                    default:
                        throw new ArgumentOutOfRangeException(nameof(options), options.Truncation, "Unknown truncation strategy.");
                }
            }
        }

        bool truncatedA = keepA < lengthA;
        bool truncatedB = keepB < lengthB;
        if (!options.ReturnOverflowingTokens || (!truncatedA && !truncatedB))
        {
            rows.Add(new RowSpan(0, keepA, 0, keepB));
            return;
        }

        if (truncatedA && truncatedB)
        {
            throw new NotSupportedException(
                $"Input {sample}: overflow windows are not possible when both texts of a pair are truncated (LongestFirst); use OnlyFirst or OnlySecond.");
        }

        if (truncatedA)
        {
            foreach ((int start, int stop) in Windows(lengthA, keepA, options.Stride))
            {
                rows.Add(new RowSpan(start, stop - start, 0, keepB));
            }
        }
        else
        {
            foreach ((int start, int stop) in Windows(lengthB, keepB, options.Stride))
            {
                rows.Add(new RowSpan(0, keepA, start, stop - start));
            }
        }
    }

    /// <summary>Hugging Face's longest-first split of <paramref name="budget"/> tokens between two texts.</summary>
    internal static (int KeepA, int KeepB) LongestFirst(int lengthA, int lengthB, int budget)
    {
        int n1 = lengthA;
        int n2 = lengthB;
        bool swap = n1 > n2;
        if (swap)
        {
            (n1, n2) = (n2, n1);
        }

        n2 = n1 > budget ? n1 : Math.Max(n1, budget - n1);
        if (n1 + n2 > budget)
        {
            n1 = budget / 2;
            n2 = n1 + (budget % 2);
        }

        if (swap)
        {
            (n1, n2) = (n2, n1);
        }

        return (Math.Min(n1, lengthA), Math.Min(n2, lengthB));
    }

    /// <summary>Windows of <paramref name="size"/> tokens over <paramref name="length"/> tokens, consecutive
    /// windows sharing <paramref name="stride"/> tokens; the first window is the truncated sequence itself.</summary>
    internal static IEnumerable<(int Start, int Stop)> Windows(int length, int size, int stride)
    {
        if (size == 0)
        {
            yield return (0, 0);
            yield break;
        }

        if (stride < 0 || stride >= size)
        {
            throw new ArgumentOutOfRangeException(
                nameof(stride), stride, $"Stride must be at least 0 and less than the {size} tokens kept per window.");
        }

        int step = size - stride;
        for (int start = 0; ; start += step)
        {
            int stop = Math.Min(start + size, length);
            yield return (start, stop);
            if (stop == length)
            {
                yield break;
            }
        }
    }

    /// <summary>
    /// Writes one row, <c>[CLS] A [SEP]</c> or <c>[CLS] A [SEP] B [SEP]</c>, to <paramref name="ids"/> and
    /// <paramref name="offsets"/> (both exactly <see cref="RowSpan.Length"/> long); offsets of [CLS]/[SEP] are (0, 0).
    /// Returns the index of the first token of the second part (the length when there is no pair).
    /// </summary>
    public static int Write(TokenBuffer first, TokenBuffer? second, RowSpan row, int clsId, int sepId, Span<int> ids, Span<TokenOffset> offsets)
    {
        ids[0] = clsId;
        offsets[0] = default;
        WriteTokens(first, row.StartA, row.CountA, ids[1..], offsets[1..]);
        ids[row.CountA + 1] = sepId;
        offsets[row.CountA + 1] = default;
        if (second is null)
        {
            return ids.Length;
        }

        int secondStart = row.CountA + 2;
        WriteTokens(second, row.StartB, row.CountB, ids[secondStart..], offsets[secondStart..]);
        ids[^1] = sepId;
        offsets[^1] = default;
        return secondStart;
    }

    private static void WriteTokens(TokenBuffer tokens, int start, int count, Span<int> ids, Span<TokenOffset> offsets)
    {
        tokens.Ids.Slice(start, count).CopyTo(ids);
        ReadOnlySpan<int> starts = tokens.Starts.Slice(start, count);
        ReadOnlySpan<int> ends = tokens.Ends.Slice(start, count);
        offsets = offsets[..count];
        for (int t = 0; t < offsets.Length; t++)
        {
            offsets[t] = new TokenOffset(starts[t], ends[t]);
        }
    }
}

/// <summary>Which tokens a row keeps: <paramref name="CountA"/> tokens of the first text from
/// <paramref name="StartA"/>, and likewise of the second text (ignored without a pair).</summary>
internal readonly record struct RowSpan(int StartA, int CountA, int StartB, int CountB)
{
    /// <summary>Number of tokens of the row with [CLS] and [SEP]s.</summary>
    public int Length(bool pair) => pair ? CountA + CountB + 3 : CountA + 2;
}
