using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Training;

/// <summary>One example ready for batching: ids, segment ids, and the target as the model's loss wants it.</summary>
/// <param name="InputIds">Token ids with [CLS]/[SEP], unpadded.</param>
/// <param name="TokenTypeIds">Segment ids.</param>
/// <param name="ClassId">Single-label: the class index; otherwise -1.</param>
/// <param name="Target">Multi-label: multi-hot over the labels; regression: the value(s); single-label: empty.</param>
internal sealed record EncodedExample(int[] InputIds, int[] TokenTypeIds, int ClassId, float[] Target);

/// <summary>Labelled examples tokenized once and checked against a model's labels, with clear errors naming the example.</summary>
internal sealed class EncodedDataset
{
    private EncodedDataset(EncodedExample[] examples)
    {
        Examples = examples;
        Lengths = [.. examples.Select(e => e.InputIds.Length)];
    }

    public EncodedExample[] Examples { get; }

    public int[] Lengths { get; }

    public int Count => Examples.Length;

    public static EncodedDataset Create(IReadOnlyList<LabeledExample> examples, ITextEncoder encoder, BertForSequenceClassification model, int maxLength, string setName, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (examples.Count == 0)
        {
            throw new ArgumentException($"The {setName} set is empty: at least one labelled example is needed.", nameof(examples));
        }

        var targets = new (int ClassId, float[] Target)[examples.Count];
        for (int i = 0; i < examples.Count; i++)
        {
            LabeledExample example = examples[i] ?? throw new ArgumentException($"{setName} example #{i} is null.", nameof(examples));
            if (string.IsNullOrWhiteSpace(example.Text))
            {
                throw new ArgumentException($"{setName} example #{i} has an empty text; remove it or give it content.", nameof(examples));
            }

            targets[i] = Target(example, i, model, setName);
        }

        // Encode single texts and pairs separately (the tokenizer takes a batch of one kind at a time).
        var encoded = new EncodedText[examples.Count];
        int[] singles = [.. Enumerable.Range(0, examples.Count).Where(i => examples[i].TextPair is null)];
        int[] pairs = [.. Enumerable.Range(0, examples.Count).Where(i => examples[i].TextPair is not null)];
        Fill(encoded, singles, encoder.Encode([.. singles.Select(i => examples[i].Text)], null, maxLength));
        Fill(encoded, pairs, encoder.Encode([.. pairs.Select(i => examples[i].Text)], [.. pairs.Select(i => examples[i].TextPair!)], maxLength));

        int vocab = model.Bert.Config.VocabSize;
        int atMax = 0, firstAtMax = -1;
        var result = new EncodedExample[examples.Count];
        for (int i = 0; i < result.Length; i++)
        {
            EncodedText e = encoded[i];
            foreach (int id in e.InputIds)
            {
                if (id < 0 || id >= vocab)
                {
                    throw new ArgumentException($"{setName} example #{i} encodes to token id {id}, outside the model's vocabulary (vocab_size {vocab}): the tokenizer does not belong to this model.", nameof(encoder));
                }
            }

            if (e.InputIds.Length >= maxLength)
            {
                atMax++;
                firstAtMax = firstAtMax < 0 ? i : firstAtMax;
            }

            result[i] = new EncodedExample(e.InputIds, e.TokenTypeIds, targets[i].ClassId, targets[i].Target);
        }

        if (atMax > 0)
        {
            TrainingLog.Truncated(logger, atMax, examples.Count, setName, maxLength, firstAtMax);
        }

        return new EncodedDataset(result);
    }

    private static void Fill(EncodedText[] into, int[] indices, IReadOnlyList<EncodedText> encoded)
    {
        for (int k = 0; k < indices.Length; k++)
        {
            into[indices[k]] = encoded[k];
        }
    }

    private static (int ClassId, float[] Target) Target(LabeledExample example, int index, BertForSequenceClassification model, string setName)
    {
        switch (model.ProblemType)
        {
            case ProblemType.Regression:
                if (example.Value is not float value)
                {
                    throw new ArgumentException($"{setName} example #{index} has no numeric value but the model does regression; create it with LabeledExample.Regression.");
                }

                return (-1, [value]);
            case ProblemType.MultiLabelClassification:
                float[] hot = new float[model.NumLabels];
                foreach (string label in example.Labels)
                {
                    hot[LabelIndex(label, index, model, setName)] = 1f;
                }

                return (-1, hot);
            default:
                if (example.Label is not string single)
                {
                    throw new ArgumentException($"{setName} example #{index} is not a single-label example ({(example.Value is null ? "it has several labels" : "it has a numeric value")}) but the model does single-label classification.");
                }

                return (LabelIndex(single, index, model, setName), []);
        }
    }

    private static int LabelIndex(string label, int index, BertForSequenceClassification model, string setName)
    {
        for (int c = 0; c < model.Labels.Count; c++)
        {
            if (string.Equals(model.Labels[c], label, StringComparison.Ordinal))
            {
                return c;
            }
        }

        throw new ArgumentException($"{setName} example #{index} has label '{label}', which is not one of the model's labels ({string.Join(", ", model.Labels.Select(l => $"'{l}'"))}).");
    }
}
