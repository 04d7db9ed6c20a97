using System.Security.Cryptography;
using Bert.Sharp.Inference;
using Bert.Sharp.Training;
using Microsoft.Extensions.Logging;

namespace Bert.Sharp;

/// <summary>Labelled examples tokenized once and checked against a classifier's labels, with clear errors naming the example.</summary>
internal sealed class ClassificationDataset : EncodedTaskDataset
{
    private ClassificationDataset(EncodedText[] inputs, int[] classIds, float[][] targets)
        : base(inputs, Hash(inputs, classIds, targets))
    {
        ClassIds = classIds;
        Targets = targets;
    }

    /// <summary>Single-label: the class index of each example; otherwise -1.</summary>
    public int[] ClassIds { get; }

    /// <summary>Multi-label: multi-hot over the labels; regression: the value(s); single-label: empty.</summary>
    public float[][] Targets { get; }

    public static ClassificationDataset Create(IReadOnlyList<LabeledExample> examples, ITextEncoder encoder, BertForSequenceClassification model, int maxLength, string setName, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (examples.Count == 0)
        {
            throw new ArgumentException($"The {setName} set is empty: at least one labelled example is needed.", nameof(examples));
        }

        var classIds = new int[examples.Count];
        var targets = new float[examples.Count][];
        for (int i = 0; i < examples.Count; i++)
        {
            LabeledExample example = examples[i] ?? throw new ArgumentException($"{setName} example #{i} is null.", nameof(examples));
            if (string.IsNullOrWhiteSpace(example.Text))
            {
                throw new ArgumentException($"{setName} example #{i} has an empty text; remove it or give it content.", nameof(examples));
            }

            (classIds[i], targets[i]) = Target(example, i, model, setName);
        }

        EncodedText[] inputs = EncodedTexts.Encode(encoder, examples.Select(e => (e.Text, e.TextPair)).ToList(), maxLength, setName, model.Bert.Config.VocabSize, logger);
        return new ClassificationDataset(inputs, classIds, targets);
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

    private static string Hash(EncodedText[] inputs, int[] classIds, float[][] targets)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (int i = 0; i < inputs.Length; i++)
        {
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(inputs[i].InputIds.AsSpan()));
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(inputs[i].TokenTypeIds.AsSpan()));
            hash.AppendData(BitConverter.GetBytes(classIds[i]));
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(targets[i].AsSpan()));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
