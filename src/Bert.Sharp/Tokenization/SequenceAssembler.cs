namespace Bert.Sharp.Tokenization;

/// <summary>
/// Truncation, overflow windows and special tokens around one text or a pair, with Hugging Face's rules
/// (<c>truncate_encodings</c> and its <c>[CLS] $A [SEP] $B:1 [SEP]:1</c> template).
/// </summary>
internal static class SequenceAssembler
{
    /// <summary>Assembles the rows for one input. Several rows come out only with overflow windows.</summary>
    public static void Assemble(
        TokenBuffer first,
        TokenBuffer? second,
        int sample,
        EncodingOptions options,
        int maxLength,
        int clsId,
        int sepId,
        List<EncodedRow> rows)
    {
        int added = second is null ? 2 : 3;
        int lengthA = first.Count;
        int lengthB = second?.Count ?? 0;
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
                    case TruncationStrategy.LongestFirst when second is not null:
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
                        if (second is null)
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
            rows.Add(Build(first, 0, keepA, second, 0, keepB, sample, clsId, sepId));
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
                rows.Add(Build(first, start, stop - start, second, 0, keepB, sample, clsId, sepId));
            }
        }
        else
        {
            foreach ((int start, int stop) in Windows(lengthB, keepB, options.Stride))
            {
                rows.Add(Build(first, 0, keepA, second, start, stop - start, sample, clsId, sepId));
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

    private static EncodedRow Build(
        TokenBuffer first,
        int startA,
        int countA,
        TokenBuffer? second,
        int startB,
        int countB,
        int sample,
        int clsId,
        int sepId)
    {
        int total = countA + 2 + (second is null ? 0 : countB + 1);
        var ids = new int[total];
        var starts = new int[total];
        var ends = new int[total];
        ids[0] = clsId;
        first.Ids.Slice(startA, countA).CopyTo(ids.AsSpan(1));
        first.Starts.Slice(startA, countA).CopyTo(starts.AsSpan(1));
        first.Ends.Slice(startA, countA).CopyTo(ends.AsSpan(1));
        ids[countA + 1] = sepId;
        int secondStart = total;
        if (second is not null)
        {
            secondStart = countA + 2;
            second.Ids.Slice(startB, countB).CopyTo(ids.AsSpan(secondStart));
            second.Starts.Slice(startB, countB).CopyTo(starts.AsSpan(secondStart));
            second.Ends.Slice(startB, countB).CopyTo(ends.AsSpan(secondStart));
            ids[total - 1] = sepId;
        }

        return new EncodedRow(ids, starts, ends, secondStart, sample);
    }
}
