namespace Bert.Sharp.TokenClassification;

/// <summary>
/// Entity-level evaluation of token tags with seqeval's semantics: precision, recall and F1 per entity type and
/// averaged (micro, macro, weighted), plus token accuracy.
/// </summary>
/// <remarks>
/// An entity counts as correct only if a true entity has the same type, first token and last token. In the
/// <see cref="ChunkingMode.Default"/> mode the entities are cut exactly as seqeval's <c>get_entities</c> does
/// (conlleval-compatible: IOB1/BIO input and IOBES prefixes are understood); in <see cref="ChunkingMode.StrictIob2"/>
/// as seqeval's <c>mode='strict', scheme=IOB2</c>.
/// </remarks>
internal static class EntityMetrics
{
    private const string Outside = "O";

    /// <summary>Compares predicted with true tags, sentence by sentence.</summary>
    /// <param name="trueTags">The gold tags of every sentence.</param>
    /// <param name="predictedTags">The predicted tags, same shape as <paramref name="trueTags"/>.</param>
    /// <param name="mode">How tags are cut into entities.</param>
    /// <exception cref="ArgumentException">The shapes differ (the message names the sentence), a tag is empty, or (strict mode) a tag is not IOB2.</exception>
    public static EntityMetricsReport Evaluate(IReadOnlyList<IReadOnlyList<string>> trueTags, IReadOnlyList<IReadOnlyList<string>> predictedTags, ChunkingMode mode = ChunkingMode.Default)
    {
        ArgumentNullException.ThrowIfNull(trueTags);
        ArgumentNullException.ThrowIfNull(predictedTags);
        if (trueTags.Count != predictedTags.Count)
        {
            throw new ArgumentException($"{trueTags.Count} true sentence(s) but {predictedTags.Count} predicted.", nameof(predictedTags));
        }

        for (int s = 0; s < trueTags.Count; s++)
        {
            ArgumentNullException.ThrowIfNull(trueTags[s], $"{nameof(trueTags)}[{s}]");
            ArgumentNullException.ThrowIfNull(predictedTags[s], $"{nameof(predictedTags)}[{s}]");
            if (trueTags[s].Count != predictedTags[s].Count)
            {
                throw new ArgumentException($"Sentence {s}: {trueTags[s].Count} true tag(s) but {predictedTags[s].Count} predicted.", nameof(predictedTags));
            }
        }

        HashSet<(string Type, int Sentence, int Start, int End)> gold = Collect(trueTags, mode, nameof(trueTags));
        HashSet<(string Type, int Sentence, int Start, int End)> guess = Collect(predictedTags, mode, nameof(predictedTags));
        var perType = new SortedDictionary<string, EntityScores>(StringComparer.Ordinal);
        foreach (string type in gold.Select(e => e.Type).Concat(guess.Select(e => e.Type)).Distinct(StringComparer.Ordinal))
        {
            int support = gold.Count(e => e.Type == type);
            int predicted = guess.Count(e => e.Type == type);
            int correct = guess.Count(e => e.Type == type && gold.Contains(e));
            perType[type] = Score(support, predicted, correct);
        }

        int totalSupport = gold.Count;
        int totalPredicted = guess.Count;
        EntityScores micro = Score(totalSupport, totalPredicted, guess.Count(gold.Contains));
        int totalCorrect = micro.Correct;
        EntityScores macro = perType.Count == 0
            ? new EntityScores(0, 0, 0, 0, 0, 0)
            : new EntityScores(
                perType.Values.Average(v => v.Precision),
                perType.Values.Average(v => v.Recall),
                perType.Values.Average(v => v.F1),
                totalSupport,
                totalPredicted,
                totalCorrect);
        EntityScores weighted = totalSupport == 0
            ? new EntityScores(0, 0, 0, 0, totalPredicted, totalCorrect)
            : new EntityScores(
                perType.Values.Sum(v => v.Precision * v.Support) / totalSupport,
                perType.Values.Sum(v => v.Recall * v.Support) / totalSupport,
                perType.Values.Sum(v => v.F1 * v.Support) / totalSupport,
                totalSupport,
                totalPredicted,
                totalCorrect);
        return new EntityMetricsReport(perType, micro, macro, weighted, Accuracy(trueTags, predictedTags));
    }

    /// <summary>Share of tokens whose predicted tag equals the true tag (seqeval's <c>accuracy_score</c>); 0 for no tokens.</summary>
    public static double Accuracy(IReadOnlyList<IReadOnlyList<string>> trueTags, IReadOnlyList<IReadOnlyList<string>> predictedTags)
    {
        ArgumentNullException.ThrowIfNull(trueTags);
        ArgumentNullException.ThrowIfNull(predictedTags);
        long total = 0, equal = 0;
        for (int s = 0; s < Math.Min(trueTags.Count, predictedTags.Count); s++)
        {
            for (int t = 0; t < Math.Min(trueTags[s].Count, predictedTags[s].Count); t++)
            {
                total++;
                equal += string.Equals(trueTags[s][t], predictedTags[s][t], StringComparison.Ordinal) ? 1 : 0;
            }
        }

        return total == 0 ? 0 : (double)equal / total;
    }

    /// <summary>The entities of one tag sequence, in order.</summary>
    /// <param name="tags">The tags of one sentence.</param>
    /// <param name="mode">How tags are cut into entities.</param>
    /// <exception cref="ArgumentException">A tag is empty, or (strict mode) not IOB2.</exception>
    public static IReadOnlyList<EntitySpan> GetEntities(IReadOnlyList<string> tags, ChunkingMode mode = ChunkingMode.Default)
    {
        ArgumentNullException.ThrowIfNull(tags);
        return mode == ChunkingMode.StrictIob2 ? StrictIob2Entities(tags, 0, nameof(tags)) : DefaultEntities(tags, nameof(tags));
    }

    private static HashSet<(string, int, int, int)> Collect(IReadOnlyList<IReadOnlyList<string>> sentences, ChunkingMode mode, string name)
    {
        var entities = new HashSet<(string, int, int, int)>();
        if (mode == ChunkingMode.StrictIob2)
        {
            for (int s = 0; s < sentences.Count; s++)
            {
                foreach (EntitySpan e in StrictIob2Entities(sentences[s], s, name))
                {
                    entities.Add((e.Type, s, e.Start, e.End));
                }
            }

            return entities;
        }

        // seqeval flattens the sentences with an "O" after each and chunks the flat list; positions are global.
        var flat = new List<string>();
        foreach (IReadOnlyList<string> sentence in sentences)
        {
            flat.AddRange(sentence);
            flat.Add(Outside);
        }

        foreach (EntitySpan e in DefaultEntities(flat, name))
        {
            entities.Add((e.Type, 0, e.Start, e.End));
        }

        return entities;
    }

    private static List<EntitySpan> DefaultEntities(IReadOnlyList<string> tags, string name)
    {
        var chunks = new List<EntitySpan>();
        char previousTag = 'O';
        string previousType = string.Empty;
        int begin = 0;
        for (int i = 0; i <= tags.Count; i++)
        {
            string chunk = i < tags.Count ? tags[i] : Outside;
            if (string.IsNullOrEmpty(chunk))
            {
                throw new ArgumentException($"Tag {i} is null or empty.", name);
            }

            char tag = chunk[0];
            string rest = chunk[1..];
            int dash = rest.IndexOf('-', StringComparison.Ordinal);
            string type = dash >= 0 ? rest[(dash + 1)..] : rest;
            if (type.Length == 0)
            {
                type = "_";
            }

            if (EndOfChunk(previousTag, tag, previousType, type))
            {
                chunks.Add(new EntitySpan(previousType, begin, i));
            }

            if (StartOfChunk(previousTag, tag, previousType, type))
            {
                begin = i;
            }

            previousTag = tag;
            previousType = type;
        }

        return chunks;
    }

    private static bool EndOfChunk(char previousTag, char tag, string previousType, string type) =>
        previousTag is 'E' or 'S'
        || (previousTag is 'B' or 'I' && tag is 'B' or 'S' or 'O')
        || (previousTag is not 'O' and not '.' && previousType != type);

    private static bool StartOfChunk(char previousTag, char tag, string previousType, string type) =>
        tag is 'B' or 'S'
        || (previousTag is 'E' or 'S' && tag is 'E' or 'I')
        || (previousTag == 'O' && tag is 'E' or 'I')
        || (tag is not 'O' and not '.' && previousType != type);

    private static List<EntitySpan> StrictIob2Entities(IReadOnlyList<string> tags, int sentence, string name)
    {
        var entities = new List<EntitySpan>();
        int i = 0;
        while (i < tags.Count)
        {
            string tag = tags[i] ?? throw new ArgumentException($"Sentence {sentence}, tag {i} is null.", name);
            if (tag == Outside)
            {
                i++;
                continue;
            }

            if (!IobTag.TryParse(tag, out char prefix, out string type))
            {
                throw new ArgumentException($"Sentence {sentence}, tag {i}: '{tag}' is not an IOB2 tag (O, B-TYPE or I-TYPE), which strict mode requires.", name);
            }

            if (prefix == 'I')
            {
                i++;
                continue;
            }

            int end = i + 1;
            while (end < tags.Count && IobTag.TryParse(tags[end] ?? string.Empty, out char p, out string t) && p == 'I' && t == type)
            {
                end++;
            }

            entities.Add(new EntitySpan(type, i, end));
            i = end;
        }

        return entities;
    }

    private static EntityScores Score(int support, int predicted, int correct)
    {
        double precision = predicted == 0 ? 0 : (double)correct / predicted;
        double recall = support == 0 ? 0 : (double)correct / support;
        double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        return new EntityScores(precision, recall, f1, support, predicted, correct);
    }
}
