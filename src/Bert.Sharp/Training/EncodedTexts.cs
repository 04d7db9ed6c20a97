using Bert.Sharp.Inference;
using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Training;

/// <summary>Tokenizes the texts (and pairs) of a training or evaluation set, checking ids against the model and reporting truncation.</summary>
internal static class EncodedTexts
{
    public static EncodedText[] Encode(ITextEncoder encoder, IReadOnlyList<(string Text, string? Pair)> texts, int maxLength, string setName, int vocabSize, ILogger logger)
    {
        // Single texts and pairs are encoded separately (the tokenizer takes a batch of one kind at a time).
        var encoded = new EncodedText[texts.Count];
        int[] singles = [.. Enumerable.Range(0, texts.Count).Where(i => texts[i].Pair is null)];
        int[] pairs = [.. Enumerable.Range(0, texts.Count).Where(i => texts[i].Pair is not null)];
        Fill(encoded, singles, encoder.Encode([.. singles.Select(i => texts[i].Text)], null, maxLength));
        Fill(encoded, pairs, encoder.Encode([.. pairs.Select(i => texts[i].Text)], [.. pairs.Select(i => texts[i].Pair!)], maxLength));
        Check(encoded, maxLength, setName, vocabSize, logger);
        return encoded;
    }

    /// <summary>Refuses ids outside the model's vocabulary and logs how many inputs reached the length limit.</summary>
    public static void Check(IReadOnlyList<EncodedText> encoded, int maxLength, string setName, int vocabSize, ILogger logger)
    {
        int atMax = 0, firstAtMax = -1;
        for (int i = 0; i < encoded.Count; i++)
        {
            foreach (int id in encoded[i].InputIds)
            {
                if (id < 0 || id >= vocabSize)
                {
                    throw new ArgumentException($"{setName} example #{i} encodes to token id {id}, outside the model's vocabulary (vocab_size {vocabSize}): the tokenizer does not belong to this model.");
                }
            }

            if (encoded[i].InputIds.Length >= maxLength)
            {
                atMax++;
                firstAtMax = firstAtMax < 0 ? i : firstAtMax;
            }
        }

        if (atMax > 0)
        {
            TrainingLog.Truncated(logger, atMax, encoded.Count, setName, maxLength, firstAtMax);
        }
    }

    private static void Fill(EncodedText[] into, int[] indices, IReadOnlyList<EncodedText> encoded)
    {
        for (int k = 0; k < indices.Length; k++)
        {
            into[indices[k]] = encoded[k];
        }
    }
}
