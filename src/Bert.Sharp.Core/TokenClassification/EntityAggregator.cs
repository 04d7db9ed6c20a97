using Bert.Sharp.Inference;

namespace Bert.Sharp.TokenClassification;

/// <summary>
/// Turns per-token label probabilities into entities with the semantics of Hugging Face's
/// <c>TokenClassificationPipeline</c> (<c>gather_pre_entities</c>, <c>aggregate_words</c>, <c>group_entities</c>,
/// and the filtering of ignored labels), for every <see cref="AggregationStrategy"/>.
/// </summary>
/// <remarks>
/// <para>Steps: special tokens are dropped. <see cref="AggregationStrategy.None"/> and
/// <see cref="AggregationStrategy.Simple"/> label each token with its arg-max label. The word strategies first group a
/// token with the following subword tokens into a word (a token starts a word unless it is a subword; the very first
/// token always does) and give the word one label: <see cref="AggregationStrategy.First"/> the first token's arg-max,
/// <see cref="AggregationStrategy.Max"/> the arg-max of the token whose top probability is highest (first one on
/// ties), <see cref="AggregationStrategy.Average"/> the arg-max of the probabilities averaged over the tokens.</para>
/// <para>Grouping (all but <see cref="AggregationStrategy.None"/>): a label <c>B-X</c> or <c>I-X</c> has type <c>X</c>,
/// any other label is its own type and counts as a continuation (<c>I</c>). An item joins the current group when its
/// type equals the type of the group's last item and it is not a <c>B-</c>; otherwise it starts a new group. A
/// group is named by its first item's label with everything up to the first <c>-</c> removed, spans from the first
/// item's start to the last item's end, and scores the mean of its items' scores.</para>
/// <para>Finally entities whose label (<see cref="AggregationStrategy.None"/>) or group name is an ignored label
/// (<c>O</c> by default) are dropped. <see cref="Entity.Text"/> is the original text between the offsets.</para>
/// </remarks>
internal static class EntityAggregator
{
    private static readonly string[] DefaultIgnoreLabels = ["O"];

    /// <summary>Finds the entities of one text.</summary>
    /// <param name="text">The original text the offsets point into.</param>
    /// <param name="tokens">Every token of the encoded text, in order, special tokens included.</param>
    /// <param name="id2label">The label of each id.</param>
    /// <param name="strategy">How tokens are merged.</param>
    /// <param name="ignoreLabels">Labels (or group names) to drop; <c>null</c> for <c>["O"]</c>.</param>
    /// <exception cref="ArgumentException">A token's probability vector does not match the labels, or its offsets lie outside the text; the message names the token.</exception>
    public static IReadOnlyList<Entity> Aggregate(string text, IReadOnlyList<TokenPrediction> tokens, IReadOnlyList<string> id2label, AggregationStrategy strategy, IReadOnlyCollection<string>? ignoreLabels = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(id2label);
        if (id2label.Count == 0)
        {
            throw new ArgumentException("The label list is empty.", nameof(id2label));
        }

        IReadOnlyCollection<string> ignored = ignoreLabels ?? DefaultIgnoreLabels;
        List<TokenPrediction> kept = Gather(text, tokens, id2label.Count);
        List<Item> items = strategy switch
        {
            AggregationStrategy.None or AggregationStrategy.Simple => [.. kept.Select(t => TokenItem(t, id2label))],
            AggregationStrategy.First or AggregationStrategy.Average or AggregationStrategy.Max => AggregateWords(kept, id2label, strategy),
            _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown aggregation strategy."),
        };

        IEnumerable<Entity> entities = strategy == AggregationStrategy.None
            ? items.Select(i => new Entity(i.Label, text[i.Start..i.End], i.Start, i.End, i.Score))
            : GroupEntities(items, text);
        return [.. entities.Where(e => !ignored.Contains(e.Group))];
    }

    /// <summary>Softmax of one token's logits, computed as Hugging Face's pipeline does (shifted by the maximum).</summary>
    public static float[] Softmax(ReadOnlySpan<float> logits)
    {
        float[] result = new float[logits.Length];
        if (logits.Length == 0)
        {
            return result;
        }

        float max = float.NegativeInfinity;
        foreach (float value in logits)
        {
            max = Math.Max(max, value);
        }

        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            result[i] = MathF.Exp(logits[i] - max);
            sum += result[i];
        }

        for (int i = 0; i < result.Length; i++)
        {
            result[i] = (float)(result[i] / sum);
        }

        return result;
    }

    private static List<TokenPrediction> Gather(string text, IReadOnlyList<TokenPrediction> tokens, int labelCount)
    {
        var kept = new List<TokenPrediction>(tokens.Count);
        for (int t = 0; t < tokens.Count; t++)
        {
            TokenPrediction token = tokens[t] ?? throw new ArgumentException($"Token {t} is null.", nameof(tokens));
            if (token.IsSpecial)
            {
                continue;
            }

            if (token.Probabilities is null || token.Probabilities.Length != labelCount)
            {
                throw new ArgumentException($"Token {t} ('{token.Piece}') has {token.Probabilities?.Length ?? 0} probabilities but there are {labelCount} labels.", nameof(tokens));
            }

            if (token.Start < 0 || token.End < token.Start || token.End > text.Length)
            {
                throw new ArgumentException($"Token {t} ('{token.Piece}') has offsets [{token.Start}, {token.End}) outside the text of length {text.Length}.", nameof(tokens));
            }

            kept.Add(token);
        }

        return kept;
    }

    private static Item TokenItem(TokenPrediction token, IReadOnlyList<string> id2label)
    {
        int best = VectorMath.ArgMax(token.Probabilities);
        return new Item(id2label[best], token.Probabilities[best], token.Start, token.End);
    }

    private static List<Item> AggregateWords(List<TokenPrediction> tokens, IReadOnlyList<string> id2label, AggregationStrategy strategy)
    {
        var words = new List<Item>();
        int first = 0;
        for (int t = 1; t <= tokens.Count; t++)
        {
            if (t == tokens.Count || !tokens[t].IsSubword)
            {
                words.Add(AggregateWord(tokens, first, t, id2label, strategy));
                first = t;
            }
        }

        return words;
    }

    private static Item AggregateWord(List<TokenPrediction> tokens, int first, int end, IReadOnlyList<string> id2label, AggregationStrategy strategy)
    {
        int start = tokens[first].Start;
        int stop = tokens[end - 1].End;
        switch (strategy)
        {
            case AggregationStrategy.First:
                {
                    float[] p = tokens[first].Probabilities;
                    int best = VectorMath.ArgMax(p);
                    return new Item(id2label[best], p[best], start, stop);
                }

            case AggregationStrategy.Max:
                {
                    int winner = first;
                    for (int t = first + 1; t < end; t++)
                    {
                        if (tokens[t].Probabilities.Max() > tokens[winner].Probabilities.Max())
                        {
                            winner = t;
                        }
                    }

                    float[] p = tokens[winner].Probabilities;
                    int best = VectorMath.ArgMax(p);
                    return new Item(id2label[best], p[best], start, stop);
                }

            default:
                {
                    float[] average = new float[id2label.Count];
                    for (int label = 0; label < average.Length; label++)
                    {
                        average[label] = NanMean(Enumerable.Range(first, end - first).Select(t => tokens[t].Probabilities[label]));
                    }

                    int best = VectorMath.ArgMax(average);
                    return new Item(id2label[best], average[best], start, stop);
                }
        }
    }

    private static IEnumerable<Entity> GroupEntities(List<Item> items, string text)
    {
        int groupStart = 0;
        for (int i = 1; i <= items.Count; i++)
        {
            if (i < items.Count)
            {
                (char bi, string tag) = GetTag(items[i].Label);
                (_, string lastTag) = GetTag(items[i - 1].Label);
                if (tag == lastTag && bi != 'B')
                {
                    continue;
                }
            }

            if (i > groupStart)
            {
                Item head = items[groupStart];
                int dash = head.Label.IndexOf('-', StringComparison.Ordinal);
                string group = dash >= 0 ? head.Label[(dash + 1)..] : head.Label;
                int start = head.Start;
                int end = items[i - 1].End;
                float score = NanMean(items.Skip(groupStart).Take(i - groupStart).Select(x => x.Score));
                yield return new Entity(group, text[start..Math.Max(start, end)], start, end, score);
            }

            groupStart = i;
        }
    }

    private static (char Bi, string Tag) GetTag(string label) =>
        label.StartsWith("B-", StringComparison.Ordinal) ? ('B', label[2..])
        : label.StartsWith("I-", StringComparison.Ordinal) ? ('I', label[2..])
        : ('I', label);

    private static float NanMean(IEnumerable<float> values)
    {
        double sum = 0;
        int count = 0;
        foreach (float value in values)
        {
            if (!float.IsNaN(value))
            {
                sum += value;
                count++;
            }
        }

        return count == 0 ? float.NaN : (float)(sum / count);
    }

    private readonly record struct Item(string Label, float Score, int Start, int End);
}
