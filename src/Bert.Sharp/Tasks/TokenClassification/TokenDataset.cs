using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Bert.Sharp.Inference;
using Bert.Sharp.TokenClassification;
using Bert.Sharp.Training;
using Microsoft.Extensions.Logging;

namespace Bert.Sharp;

/// <summary>Tagged sentences encoded word by word: token ids, the word of each token, labels aligned to word pieces, and the word tags for metrics.</summary>
internal sealed class TokenDataset : EncodedTaskDataset
{
    private TokenDataset(EncodedText[] inputs, int?[][] wordIds, int[][] tokenLabels, string[][] wordTags)
        : base(inputs, Hash(inputs, tokenLabels))
    {
        WordIds = wordIds;
        TokenLabels = tokenLabels;
        WordTags = wordTags;
    }

    /// <summary>For each token, the word it came from (null for [CLS]/[SEP]).</summary>
    public int?[][] WordIds { get; }

    /// <summary>For each token, its tag id, or -100 where the loss ignores it.</summary>
    public int[][] TokenLabels { get; }

    /// <summary>The true tags of the words that survived truncation.</summary>
    public string[][] WordTags { get; }

    public static TokenDataset Create(IReadOnlyList<TaggedSentence> sentences, ITextEncoder encoder, BertForTokenClassification model, bool labelAllTokens, int maxLength, string setName, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        if (sentences.Count == 0)
        {
            throw new ArgumentException($"The {setName} set is empty: at least one tagged sentence is needed.", nameof(sentences));
        }

        var aligner = new WordPieceLabelAligner(model.Labels, labelAllTokens);
        var labelIds = model.Labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i, StringComparer.Ordinal);
        var inputs = new EncodedText[sentences.Count];
        var wordIds = new int?[sentences.Count][];
        var tokenLabels = new int[sentences.Count][];
        var wordTags = new string[sentences.Count][];
        int truncated = 0, firstTruncated = -1;
        for (int i = 0; i < sentences.Count; i++)
        {
            TaggedSentence sentence = sentences[i] ?? throw new ArgumentException($"{setName} sentence #{i} is null.", nameof(sentences));
            if (sentence.Tokens.Count == 0)
            {
                throw new ArgumentException($"{setName} sentence #{i} has no tokens.", nameof(sentences));
            }

            int[] wordLabels = new int[sentence.Tags.Count];
            for (int w = 0; w < wordLabels.Length; w++)
            {
                wordLabels[w] = labelIds.TryGetValue(sentence.Tags[w], out int id)
                    ? id
                    : throw new ArgumentException($"{setName} sentence #{i}, token #{w} ('{sentence.Tokens[w]}') has tag '{sentence.Tags[w]}', which is not one of the model's tags ({string.Join(", ", model.Labels)}).");
            }

            WordEncoding encoding = encoder.EncodeWords(sentence.Tokens, maxLength);
            inputs[i] = new EncodedText([.. encoding.InputIds], new int[encoding.InputIds.Count]);
            wordIds[i] = [.. encoding.WordIds];
            tokenLabels[i] = aligner.Align(encoding.WordIds, wordLabels);
            wordTags[i] = [.. sentence.Tags.Take(encoding.WordsKept)];
            if (encoding.WordsKept < sentence.Tokens.Count)
            {
                truncated++;
                firstTruncated = firstTruncated < 0 ? i : firstTruncated;
            }
        }

        EncodedTexts.Check(inputs, int.MaxValue, setName, model.Bert.Config.VocabSize, logger);
        if (truncated > 0)
        {
            TrainingLog.Truncated(logger, truncated, sentences.Count, setName, maxLength, firstTruncated);
        }

        return new TokenDataset(inputs, wordIds, tokenLabels, wordTags);
    }

    private static string Hash(EncodedText[] inputs, int[][] labels)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (int i = 0; i < inputs.Length; i++)
        {
            hash.AppendData(MemoryMarshal.AsBytes(inputs[i].InputIds.AsSpan()));
            hash.AppendData(MemoryMarshal.AsBytes(labels[i].AsSpan()));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
