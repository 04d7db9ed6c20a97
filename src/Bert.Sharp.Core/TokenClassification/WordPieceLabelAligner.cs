namespace Bert.Sharp.TokenClassification;

/// <summary>
/// Turns per-word labels into per-token label ids for training, the way Hugging Face's token-classification
/// examples do: the first piece of a word gets the word's label, the other pieces and the special tokens get
/// <see cref="IgnoreIndex"/> (which the cross-entropy loss skips).
/// </summary>
/// <remarks>
/// With <see cref="LabelAllTokens"/> every piece gets its word's label instead, except that a <c>B-X</c> becomes
/// <c>I-X</c> on the pieces after the first (when the label set has <c>I-X</c>), as <c>run_ner.py</c> does with
/// <c>--label_all_tokens</c>. A piece is "first" when its word index differs from the previous token's, exactly
/// Hugging Face's test.
/// </remarks>
internal sealed class WordPieceLabelAligner
{
    /// <summary>The label id the loss ignores (PyTorch's default <c>ignore_index</c>).</summary>
    public const int IgnoreIndex = -100;

    private readonly Dictionary<string, int> _ids;
    private readonly int[] _beginToInside;

    /// <summary>Creates an aligner for a label set.</summary>
    /// <param name="labels">The model's labels; a label's id is its index (Hugging Face's <c>id2label</c>).</param>
    /// <param name="labelAllTokens">Label every piece of a word, not only the first.</param>
    /// <exception cref="ArgumentException">The label list is empty or has a duplicate.</exception>
    public WordPieceLabelAligner(IReadOnlyList<string> labels, bool labelAllTokens = false)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count == 0)
        {
            throw new ArgumentException("The label list is empty.", nameof(labels));
        }

        _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < labels.Count; i++)
        {
            if (!_ids.TryAdd(labels[i] ?? throw new ArgumentException($"Label {i} is null.", nameof(labels)), i))
            {
                throw new ArgumentException($"Label '{labels[i]}' appears twice (ids {_ids[labels[i]]} and {i}).", nameof(labels));
            }
        }

        _beginToInside = new int[labels.Count];
        for (int i = 0; i < labels.Count; i++)
        {
            _beginToInside[i] = IobTag.TryParse(labels[i], out char prefix, out string type) && prefix == 'B' && _ids.TryGetValue("I-" + type, out int inside) ? inside : i;
        }

        Labels = labels;
        LabelAllTokens = labelAllTokens;
    }

    /// <summary>The label set; ids are indices into it.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Whether every piece of a word is labelled (with <c>B-</c> turned into <c>I-</c> after the first piece).</summary>
    public bool LabelAllTokens { get; }

    /// <summary>Per-token label ids for one encoded sequence, from per-word tags.</summary>
    /// <param name="wordIds">For each token of the encoded sequence, the index of the word it came from; <c>null</c> for special tokens and padding.</param>
    /// <param name="wordTags">The tag of every word.</param>
    /// <exception cref="ArgumentException">A word index is out of range, or a tag is not in <see cref="Labels"/>; the message names the token or word.</exception>
    public int[] Align(IReadOnlyList<int?> wordIds, IReadOnlyList<string> wordTags)
    {
        ArgumentNullException.ThrowIfNull(wordTags);
        int[] ids = new int[wordTags.Count];
        for (int w = 0; w < ids.Length; w++)
        {
            if (wordTags[w] is null || !_ids.TryGetValue(wordTags[w], out ids[w]))
            {
                throw new ArgumentException($"Word {w} has tag '{wordTags[w]}', which is not one of the model's labels ({string.Join(", ", Labels)}).", nameof(wordTags));
            }
        }

        return Align(wordIds, ids);
    }

    /// <summary>Per-token label ids for one encoded sequence, from per-word label ids.</summary>
    /// <param name="wordIds">For each token of the encoded sequence, the index of the word it came from; <c>null</c> for special tokens and padding.</param>
    /// <param name="wordLabelIds">The label id of every word.</param>
    /// <exception cref="ArgumentException">A word index or label id is out of range; the message names the token.</exception>
    public int[] Align(IReadOnlyList<int?> wordIds, IReadOnlyList<int> wordLabelIds)
    {
        ArgumentNullException.ThrowIfNull(wordIds);
        ArgumentNullException.ThrowIfNull(wordLabelIds);
        int[] result = new int[wordIds.Count];
        int? previous = null;
        for (int t = 0; t < result.Length; t++)
        {
            int? word = wordIds[t];
            if (word is null)
            {
                result[t] = IgnoreIndex;
            }
            else
            {
                if (word.Value < 0 || word.Value >= wordLabelIds.Count)
                {
                    throw new ArgumentException($"Token {t} comes from word {word.Value}, but there are {wordLabelIds.Count} word label(s).", nameof(wordIds));
                }

                int label = wordLabelIds[word.Value];
                if (label < 0 || label >= Labels.Count)
                {
                    throw new ArgumentException($"Word {word.Value} has label id {label}, outside [0, {Labels.Count}).", nameof(wordLabelIds));
                }

                result[t] = word != previous ? label : LabelAllTokens ? _beginToInside[label] : IgnoreIndex;
            }

            previous = word;
        }

        return result;
    }

    /// <summary>
    /// The reverse, for evaluation: the value of each word's first token. Words that have no token (cut off by
    /// truncation) get <paramref name="missing"/>.
    /// </summary>
    /// <param name="wordIds">For each token, the index of its word, or <c>null</c>.</param>
    /// <param name="tokenValues">A value per token (a predicted label id, say).</param>
    /// <param name="wordCount">Number of words of the sentence.</param>
    /// <param name="missing">The value of words without a token.</param>
    /// <exception cref="ArgumentException">The lists differ in length or a word index is out of range.</exception>
    public static T[] FirstPieceValues<T>(IReadOnlyList<int?> wordIds, IReadOnlyList<T> tokenValues, int wordCount, T missing)
    {
        ArgumentNullException.ThrowIfNull(wordIds);
        ArgumentNullException.ThrowIfNull(tokenValues);
        ArgumentOutOfRangeException.ThrowIfNegative(wordCount);
        if (wordIds.Count != tokenValues.Count)
        {
            throw new ArgumentException($"{wordIds.Count} word id(s) but {tokenValues.Count} token value(s).", nameof(tokenValues));
        }

        var result = new T[wordCount];
        var seen = new bool[wordCount];
        Array.Fill(result, missing);
        for (int t = 0; t < wordIds.Count; t++)
        {
            if (wordIds[t] is not int word)
            {
                continue;
            }

            if (word < 0 || word >= wordCount)
            {
                throw new ArgumentException($"Token {t} comes from word {word}, but the sentence has {wordCount} word(s).", nameof(wordIds));
            }

            if (!seen[word])
            {
                seen[word] = true;
                result[word] = tokenValues[t];
            }
        }

        return result;
    }
}
