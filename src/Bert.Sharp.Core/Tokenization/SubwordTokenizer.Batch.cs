using Bert.Sharp.Tokenization;

namespace Bert.Sharp;

// Batch encoding: texts (or pairs) truncated, wrapped in the template's special tokens and padded, as a transformers
// fast tokenizer's __call__ gives them.
public sealed partial class SubwordTokenizer
{
    /// <summary>
    /// Encodes single texts into a batch, as transformers' <c>tokenizer(texts, padding=..., truncation=...)</c>: the
    /// template's special tokens around each text (<c>&lt;s&gt; A &lt;/s&gt;</c>), truncated and padded (on the right, with
    /// <see cref="PadTokenId"/>) as <paramref name="options"/> says — by default longest-first to
    /// <see cref="ModelMaxLength"/>, padded to the longest row. Offsets index each text; special tokens and padding have
    /// empty offsets and are marked in <see cref="BatchEncoding.SpecialTokensMask"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A text is null.</exception>
    /// <exception cref="InvalidOperationException">Rows must be padded and the tokenizer names no <see cref="PadToken"/>.</exception>
    public BatchEncoding EncodeBatch(IReadOnlyList<string> texts, EncodingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return EncodeBatchCore(texts, null, options ?? EncodingOptions.Default);
    }

    /// <summary>
    /// Encodes pairs (<c>texts[i]</c> with <c>pairs[i]</c>) into a batch with the template's pair form
    /// (<c>&lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt;</c> for RoBERTa) and its token types, truncated and padded as
    /// <paramref name="options"/> says; offsets of the second part index <c>pairs[i]</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The lists differ in length or hold a null.</exception>
    /// <exception cref="InvalidOperationException">Rows must be padded and the tokenizer names no <see cref="PadToken"/>.</exception>
    public BatchEncoding EncodeBatch(IReadOnlyList<string> texts, IReadOnlyList<string> pairs, EncodingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(pairs);
        if (texts.Count != pairs.Count)
        {
            throw new ArgumentException($"texts has {texts.Count} items but pairs has {pairs.Count}; they must match.", nameof(pairs));
        }

        return EncodeBatchCore(texts, pairs, options ?? EncodingOptions.Default);
    }

    private BatchEncoding EncodeBatchCore(IReadOnlyList<string> texts, IReadOnlyList<string>? pairs, EncodingOptions options)
    {
        int maxLength = EncodingOptions.CheckedMaxLength(options, ModelMaxLength);

        if (options.Padding == PaddingStrategy.MaxLength && maxLength == int.MaxValue)
        {
            throw new ArgumentException($"Padding to MaxLength needs a length: set EncodingOptions.MaxLength ('{TokenizerFiles.ConfigFile}' names no model_max_length).", nameof(options));
        }

        PostTemplate t = _parts.Template;
        var rows = new List<RowBuilder>(texts.Count);
        var spans = new List<RowSpan>(1);
        for (int i = 0; i < texts.Count; i++)
        {
            (int Id, TokenOffset Offset)[] a = [.. EncodeWithOffsets(texts[i] ?? throw new ArgumentException($"texts[{i}] is null.", nameof(texts)))];
            (int Id, TokenOffset Offset)[]? b = pairs is null ? null
                : [.. EncodeWithOffsets(pairs[i] ?? throw new ArgumentException($"pairs[{i}] is null.", nameof(pairs)))];
            int added = b is null ? t.SinglePrefix.Length + t.SingleSuffix.Length : t.PairPrefix.Length + t.PairMiddle.Length + t.PairSuffix.Length;
            spans.Clear();
            SequenceAssembler.Assemble(a.Length, b?.Length, added, i, options, maxLength, spans);
            foreach (RowSpan span in spans)
            {
                var row = new RowBuilder(i);
                if (b is null)
                {
                    row.Special(t.SinglePrefix, t.TypeA).Text(a, span.StartA, span.CountA, t.TypeA).Special(t.SingleSuffix, t.TypeA);
                }
                else
                {
                    row.Special(t.PairPrefix, t.PairTypeA).Text(a, span.StartA, span.CountA, t.PairTypeA).Special(t.PairMiddle, t.PairTypeA)
                        .Text(b, span.StartB, span.CountB, t.PairTypeB).Special(t.PairSuffix, t.PairTypeB);
                }

                rows.Add(row);
            }
        }

        int longest = rows.Count == 0 ? 0 : rows.Max(r => r.Length);
        int paddedLength = options.Padding switch
        {
            PaddingStrategy.None => 0,
            PaddingStrategy.MaxLength => options.RoundUpToMultiple(maxLength),
            _ => options.RoundUpToMultiple(longest),
        };
        if (PadTokenId is null && rows.Any(r => r.Length < paddedLength))
        {
            throw new InvalidOperationException(
                $"The rows must be padded to {paddedLength} tokens but the tokenizer has no pad token ('{TokenizerFiles.ConfigFile}' and '{TokenizerFiles.SpecialTokensMapFile}' name no pad_token); use PaddingStrategy.None.");
        }

        var batch = new BatchEncoding(rows.Count);
        for (int r = 0; r < rows.Count; r++)
        {
            RowBuilder row = rows[r];
            batch.SetRow(r, [.. row.Ids], [.. row.Types], [.. row.SpecialMask], [.. row.Offsets], row.Sample, paddedLength, PadTokenId ?? 0);
        }

        return batch;
    }

    // One row, built part by part in the template's order: special tokens (marked, empty offsets) and slices of a text's tokens.
    private sealed class RowBuilder(int sample)
    {
        public int Sample { get; } = sample;

        public List<int> Ids { get; } = [];

        public List<int> Types { get; } = [];

        public List<int> SpecialMask { get; } = [];

        public List<TokenOffset> Offsets { get; } = [];

        public int Length => Ids.Count;

        public RowBuilder Special(int[] ids, int type)
        {
            foreach (int id in ids)
            {
                Add(id, default, type, 1);
            }

            return this;
        }

        public RowBuilder Text((int Id, TokenOffset Offset)[] tokens, int start, int count, int type)
        {
            for (int k = start; k < start + count; k++)
            {
                Add(tokens[k].Id, tokens[k].Offset, type, 0);
            }

            return this;
        }

        private void Add(int id, TokenOffset offset, int type, int special)
        {
            Ids.Add(id);
            Offsets.Add(offset);
            Types.Add(type);
            SpecialMask.Add(special);
        }
    }
}
