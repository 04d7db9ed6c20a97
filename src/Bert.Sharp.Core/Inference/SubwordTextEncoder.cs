using Bert.Sharp.Tokenization;

namespace Bert.Sharp.Inference;

/// <summary>
/// The <see cref="IServingTextEncoder"/> over a <see cref="SubwordTokenizer"/> (byte-level BPE for RoBERTa, Unigram for
/// XLM-R): the ids of its template (<c>&lt;s&gt; A &lt;/s&gt;</c>, <c>&lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt;</c>),
/// truncated as Hugging Face's <c>tokenizers</c> truncates (longest first), unpadded.
/// </summary>
internal sealed class SubwordTextEncoder : IServingTextEncoder
{
    private readonly PostTemplate template;
    private readonly IReadOnlySet<int> specialIds;

    /// <param name="tokenizer">The tokenizer.</param>
    /// <param name="padTokenId">The padding id: the model's <c>pad_token_id</c> (RoBERTa numbers positions from it, so it must be the model's).</param>
    /// <param name="modelMaxLength">The tokenizer's <c>model_max_length</c> (<see cref="int.MaxValue"/> when it has none).</param>
    public SubwordTextEncoder(SubwordTokenizer tokenizer, int padTokenId, int modelMaxLength)
    {
        Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        template = tokenizer.Parts.Template;
        specialIds = tokenizer.Parts.SpecialIds;
        PadTokenId = padTokenId;
        ModelMaxLength = modelMaxLength;
    }

    public SubwordTokenizer Tokenizer { get; }

    public int PadTokenId { get; }

    public int ModelMaxLength { get; }

    private int SingleAdded => template.SinglePrefix.Length + template.SingleSuffix.Length;

    private int PairAdded => template.PairPrefix.Length + template.PairMiddle.Length + template.PairSuffix.Length;

    public IReadOnlyList<EncodedText> Encode(IReadOnlyList<string> texts, IReadOnlyList<string>? pairs, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (pairs is not null && pairs.Count != texts.Count)
        {
            throw new ArgumentException($"{texts.Count} texts but {pairs.Count} pairs.", nameof(pairs));
        }

        var rows = new EncodedText[texts.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            int[] a = Pieces(texts[i], i).Select(p => p.Id).ToArray();
            if (pairs is null)
            {
                a = a[..Math.Min(a.Length, Math.Max(0, maxLength - SingleAdded))];
                int[] ids = [.. template.SinglePrefix, .. a, .. template.SingleSuffix];
                rows[i] = new EncodedText(ids, Filled(ids.Length, template.TypeA));
                continue;
            }

            int[] b = Pieces(pairs[i], i).Select(p => p.Id).ToArray();
            (int keepA, int keepB) = SequenceAssembler.LongestFirst(a.Length, b.Length, Math.Max(0, maxLength - PairAdded));
            int[] first = [.. template.PairPrefix, .. a[..keepA], .. template.PairMiddle];
            int[] second = [.. b[..keepB], .. template.PairSuffix];
            int[] types = [.. Filled(first.Length, template.PairTypeA), .. Filled(second.Length, template.PairTypeB)];
            rows[i] = new EncodedText([.. first, .. second], types);
        }

        return rows;
    }

    public WordEncoding EncodeWords(IReadOnlyList<string> words, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(words);
        int budget = maxLength - SingleAdded;
        if (budget < 0)
        {
            throw new ArgumentException($"maxLength must leave room for the {SingleAdded} special tokens, got {maxLength}.", nameof(maxLength));
        }

        var ids = new List<int>(template.SinglePrefix);
        var wordIds = new List<int?>(template.SinglePrefix.Select(_ => (int?)null));
        int kept = 0;
        int used = 0;
        for (int w = 0; w < words.Count && used < budget; w++)
        {
            string word = words[w] ?? throw new ArgumentException($"Word #{w} is null.", nameof(words));

            // A word after the first is encoded as it reads in running text, after a space (what Hugging Face's
            // is_split_into_words with add_prefix_space gives for byte-level BPE; Unigram's Metaspace marks every word anyway).
            string input = w > 0 && Tokenizer.Kind == TokenizerKind.ByteLevelBpe ? " " + word : word;
            IReadOnlyList<(int Id, TokenOffset Offset)> pieces = Tokenizer.EncodeWithOffsets(input);
            int take = Math.Min(pieces.Count, budget - used);
            for (int t = 0; t < take; t++)
            {
                ids.Add(pieces[t].Id);
                wordIds.Add(w);
            }

            used += take;
            kept = take > 0 || pieces.Count == 0 ? w + 1 : kept;
        }

        ids.AddRange(template.SingleSuffix);
        wordIds.AddRange(template.SingleSuffix.Select(_ => (int?)null));
        return new WordEncoding(ids, wordIds, kept);
    }

    public IReadOnlyList<TokenizedRow> Tokenize(IReadOnlyList<string> texts, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var rows = new TokenizedRow[texts.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            string text = texts[i];
            IReadOnlyList<(int Id, TokenOffset Offset)> pieces = Pieces(text, i);
            int keep = Math.Min(pieces.Count, Math.Max(0, maxLength - SingleAdded));
            int n = template.SinglePrefix.Length + keep + template.SingleSuffix.Length;
            var ids = new int[n];
            var names = new string[n];
            var offsets = new TokenOffset[n];
            var special = new bool[n];
            var subword = new bool[n];
            int t = 0;
            foreach (int id in template.SinglePrefix)
            {
                (ids[t], names[t], special[t]) = (id, Tokenizer.IdToToken(id) ?? string.Empty, true);
                t++;
            }

            for (int k = 0; k < keep; k++, t++)
            {
                (int id, TokenOffset offset) = pieces[k];
                ids[t] = id;
                names[t] = Tokenizer.IdToToken(id) ?? string.Empty;
                offsets[t] = offset;
                special[t] = specialIds.Contains(id);

                // Hugging Face's pipeline for tokenizers without a continuing-subword prefix (byte-level BPE, Unigram): a token
                // continues a word unless it starts the text or a space is just before or at its start.
                subword[t] = !special[t] && offset.Start > 0 && text[offset.Start - 1] != ' ' && (offset.Start >= text.Length || text[offset.Start] != ' ');
            }

            foreach (int id in template.SingleSuffix)
            {
                (ids[t], names[t], special[t]) = (id, Tokenizer.IdToToken(id) ?? string.Empty, true);
                t++;
            }

            rows[i] = new TokenizedRow(new EncodedText(ids, Filled(n, template.TypeA)), names, offsets, special, subword);
        }

        return rows;
    }

    private static int[] Filled(int length, int value)
    {
        var result = new int[length];
        Array.Fill(result, value);
        return result;
    }

    private IReadOnlyList<(int Id, TokenOffset Offset)> Pieces(string? text, int index) =>
        Tokenizer.EncodeWithOffsets(text ?? throw new ArgumentException($"Text #{index} is null.", nameof(text)));
}
