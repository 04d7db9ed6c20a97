using Bert.Sharp.Tokenization;

namespace Bert.Sharp;

// Batch encoding: many texts (or pairs) truncated, wrapped in [CLS]/[SEP] and padded into one batch, over all cores.
public sealed partial class BertTokenizer
{
    /// <summary>
    /// Encodes single texts into a batch: truncated, wrapped in [CLS]/[SEP] and padded as
    /// <paramref name="options"/> says (default: longest-first truncation to <see cref="ModelMaxLength"/>, padding
    /// to the longest row). Large batches are spread over all cores.
    /// </summary>
    /// <exception cref="ArgumentException">A text is null.</exception>
    public BatchEncoding EncodeBatch(IReadOnlyList<string> texts, EncodingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return EncodeBatchCore(texts, null, options ?? EncodingOptions.Default, allowParallel: true);
    }

    /// <summary>
    /// Encodes pairs of texts (<c>texts[i]</c> with <c>pairs[i]</c>, e.g. question and passage) into a batch:
    /// <c>[CLS] A [SEP] B [SEP]</c> with token types 0 then 1, truncated and padded as <paramref name="options"/> says.
    /// </summary>
    /// <exception cref="ArgumentException">The lists differ in length or hold a null.</exception>
    public BatchEncoding EncodeBatch(IReadOnlyList<string> texts, IReadOnlyList<string> pairs, EncodingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(pairs);
        if (texts.Count != pairs.Count)
        {
            throw new ArgumentException($"texts has {texts.Count} items but pairs has {pairs.Count}; they must match.", nameof(pairs));
        }

        return EncodeBatchCore(texts, pairs, options ?? EncodingOptions.Default, allowParallel: true);
    }

    /// <summary>Batch encoding with parallelism switchable off (benchmarks measure the speed-up with it).</summary>
    internal BatchEncoding EncodeBatchCore(IReadOnlyList<string> texts, IReadOnlyList<string>? pairs, EncodingOptions options, bool allowParallel)
    {
        int maxLength = EncodingOptions.CheckedMaxLength(options, ModelMaxLength);

        int count = texts.Count;
        bool parallel = allowParallel && count >= 64 && Environment.ProcessorCount > 1;

        // Ranges of about 1/16 of a core's share: small enough that the cores finish together, large enough that
        // the per-range set-up (a row store, a list) stays negligible.
        int chunk = parallel ? Math.Max(16, count / (16 * Environment.ProcessorCount)) : Math.Max(1, count);
        int ranges = (count + chunk - 1) / chunk;

        // When no row's padding depends on the others (no padding, or padding to a fixed length), each row is
        // padded as soon as it is encoded: one pass over the batch, nothing kept in between.
        int? fixedPadding = options.ReturnOverflowingTokens ? null : options.Padding switch
        {
            PaddingStrategy.None => 0,
            PaddingStrategy.MaxLength when _padId >= 0 => options.RoundUpToMultiple(maxLength),
            _ => null,
        };

        if (fixedPadding is int padded)
        {
            var batch = new BatchEncoding(count);
            ForEachRange(ranges, parallel, k =>
            {
                var store = new RowStore(64, 1);
                var spans = new List<RowSpan>(1);
                try
                {
                    for (int i = k * chunk, end = Math.Min(count, (k + 1) * chunk); i < end; i++)
                    {
                        store.Clear();
                        EncodeInput(texts, pairs, i, options, maxLength, spans, store);
                        store.CopyTo(0, batch, i, padded, _padId);
                    }
                }
                finally
                {
                    store.Release();
                }
            });
            return batch;
        }

        // Otherwise: encode every range into its own store, then pad once the longest row is known.
        var stores = new RowStore?[ranges];
        try
        {
            ForEachRange(ranges, parallel, k =>
            {
                int from = k * chunk;
                int end = Math.Min(count, from + chunk);
                var store = new RowStore((end - from) * 32, end - from);
                stores[k] = store;
                var spans = new List<RowSpan>(1);
                for (int i = from; i < end; i++)
                {
                    EncodeInput(texts, pairs, i, options, maxLength, spans, store);
                }
            });

            var firstRow = new int[ranges];
            int rows = 0;
            int longest = 0;
            int shortest = int.MaxValue;
            for (int k = 0; k < ranges; k++)
            {
                RowStore store = stores[k]!;
                firstRow[k] = rows;
                rows += store.Count;
                for (int j = 0; j < store.Count; j++)
                {
                    longest = Math.Max(longest, store.LengthOf(j));
                    shortest = Math.Min(shortest, store.LengthOf(j));
                }
            }

            int paddedLength = options.Padding switch
            {
                PaddingStrategy.None => 0,
                PaddingStrategy.MaxLength => options.RoundUpToMultiple(maxLength),
                _ => options.RoundUpToMultiple(longest),
            };
            if (rows > 0 && shortest < paddedLength)
            {
                _ = PadTokenId; // Throws a clear error when the vocabulary cannot pad.
            }

            var result = new BatchEncoding(rows);
            ForEachRange(ranges, parallel, k =>
            {
                RowStore store = stores[k]!;
                for (int j = 0; j < store.Count; j++)
                {
                    store.CopyTo(j, result, firstRow[k] + j, paddedLength, _padId);
                }
            });
            return result;
        }
        finally
        {
            foreach (RowStore? store in stores)
            {
                store?.Release();
            }
        }
    }

    // Runs body(0 .. ranges-1), over all cores when parallel. One worker per core takes the next range as soon as
    // it is done with one, so the cores finish within one (small) range of each other; Parallel.For over the ranges
    // themselves hands out growing blocks of indices, which left one core idle at the end of a batch.
    private static void ForEachRange(int ranges, bool parallel, Action<int> body)
    {
        if (!parallel)
        {
            for (int k = 0; k < ranges; k++)
            {
                body(k);
            }

            return;
        }

        int next = -1;
        Parallel.For(0, Math.Min(Environment.ProcessorCount, ranges), _ =>
        {
            for (int k = Interlocked.Increment(ref next); k < ranges; k = Interlocked.Increment(ref next))
            {
                body(k);
            }
        });
    }

    // Encodes input i (and its pair) with this thread's scratch and adds its rows to the store.
    private void EncodeInput(
        IReadOnlyList<string> texts, IReadOnlyList<string>? pairs, int i, EncodingOptions options, int maxLength, List<RowSpan> spans, RowStore store)
    {
        string text = texts[i] ?? throw new ArgumentException($"texts[{i}] is null.", nameof(texts));
        string? pair = pairs is null ? null : pairs[i] ?? throw new ArgumentException($"pairs[{i}] is null.", nameof(pairs));
        (TokenBuffer first, TokenBuffer? second) = EncodeToScratch(text, pair);

        spans.Clear();
        SequenceAssembler.Assemble(first, second, i, options, maxLength, spans);
        foreach (RowSpan span in spans)
        {
            store.Add(first, second, span, i, ClsTokenId, SepTokenId);
        }
    }
}
