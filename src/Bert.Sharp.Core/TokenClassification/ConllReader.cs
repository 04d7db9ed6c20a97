using System.Text;

namespace Bert.Sharp.TokenClassification;

/// <summary>
/// Reads token-classification data in CoNLL layout: one token per line, its tag in the last column, a blank line
/// between sentences.
/// </summary>
/// <remarks>
/// <para>Accepted lines: <c>token&lt;TAB&gt;tag</c>; <c>token tag</c> (space separated); CoNLL-2003's four columns
/// <c>token POS chunk tag</c> (the token is the first column, the tag the last). A line that holds a tab is split on
/// tabs, otherwise on spaces.</para>
/// <para>Skipped lines: blank lines (they end a sentence), <c>-DOCSTART-</c> lines (they end a sentence too) and, before
/// the first token of a sentence, comment lines that start with <c>"# "</c> (CoNLL-U's <c># id = ...</c>,
/// <c># text = ...</c>). Inside a sentence a line starting with <c>"# "</c> is data: the token <c>#</c>.</para>
/// </remarks>
public static class ConllReader
{
    private const string DocStart = "-DOCSTART-";

    /// <summary>Reads a CoNLL file (UTF-8, a byte order mark is honoured).</summary>
    /// <param name="path">The file.</param>
    /// <param name="validateTags">Require every tag to be <c>O</c>, <c>B-TYPE</c> or <c>I-TYPE</c>; off for other tag sets (POS tags, IOBES).</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A line has one column or (with validation) a tag that is not IOB2-shaped; the message names file and line.</exception>
    public static ConllCorpus Read(string path, bool validateTags = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"CoNLL file '{path}' not found.", path);
        }

        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return Parse(reader, path, validateTags);
    }

    /// <summary>Reads CoNLL text from a reader; <paramref name="sourceName"/> is what error messages call the input.</summary>
    /// <inheritdoc cref="Read" path="/param[@name='validateTags']"/>
    /// <exception cref="InvalidDataException">A line has one column or (with validation) a tag that is not IOB2-shaped; the message names source and line.</exception>
    public static ConllCorpus Parse(TextReader reader, string sourceName, bool validateTags = true)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(sourceName);
        var sentences = new List<TaggedSentence>();
        var warnings = new List<string>();
        var tokens = new List<string>();
        var tags = new List<string>();
        string previousTag = IobTag.Outside;
        int lineNumber = 0;

        void Flush()
        {
            if (tokens.Count > 0)
            {
                sentences.Add(new TaggedSentence([.. tokens], [.. tags]));
                tokens.Clear();
                tags.Clear();
            }

            previousTag = IobTag.Outside;
        }

        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (lineNumber == 1 && line.Length > 0 && line[0] == '\uFEFF')
            {
                line = line[1..];
            }

            string trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed.StartsWith(DocStart, StringComparison.Ordinal))
            {
                Flush();
                continue;
            }

            if (tokens.Count == 0 && line.StartsWith("# ", StringComparison.Ordinal))
            {
                continue;
            }

            string[] columns = trimmed.Contains('\t', StringComparison.Ordinal)
                ? trimmed.Split('\t', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                : trimmed.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (columns.Length < 2)
            {
                throw new InvalidDataException($"{sourceName}:{lineNumber}: expected a token and a tag separated by a tab or space, got one column: '{Shorten(trimmed)}'.");
            }

            string token = columns[0];
            string tag = columns[^1];
            if (validateTags)
            {
                if (!IobTag.IsValid(tag))
                {
                    throw new InvalidDataException($"{sourceName}:{lineNumber}: tag '{tag}' of token '{token}' is not IOB2-shaped (expected O, B-TYPE or I-TYPE); read with tag validation off for other tag sets.");
                }

                if (IobTag.TryParse(tag, out char prefix, out string type) && prefix == 'I' && !Continues(previousTag, type))
                {
                    warnings.Add($"{sourceName}:{lineNumber}: '{tag}' follows '{previousTag}' (no B-{type} before it); read as the start of a {type} entity, as in BIO/IOB1 files.");
                }
            }

            tokens.Add(token);
            tags.Add(tag);
            previousTag = tag;
        }

        Flush();
        return new ConllCorpus(sentences, warnings);
    }

    /// <summary>
    /// Splits sentences into a train and a test set, reproducibly for a given seed (a seeded shuffle, then the first
    /// <c>round(count × testFraction)</c> sentences are the test set).
    /// </summary>
    /// <param name="sentences">The sentences; not modified.</param>
    /// <param name="testFraction">Share of sentences for the test set, in (0, 1).</param>
    /// <param name="seed">Seed of the shuffle.</param>
    public static (IReadOnlyList<TaggedSentence> Train, IReadOnlyList<TaggedSentence> Test) Split(IReadOnlyList<TaggedSentence> sentences, double testFraction = 0.2, int seed = 42)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        if (!(testFraction > 0 && testFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "The test fraction must be in (0, 1).");
        }

        int[] order = new Training.Pcg32((ulong)seed).Permutation(sentences.Count);
        int testCount = (int)Math.Round(sentences.Count * testFraction, MidpointRounding.AwayFromZero);
        return ([.. order.Skip(testCount).Select(i => sentences[i])], [.. order.Take(testCount).Select(i => sentences[i])]);
    }

    /// <summary>The entity types of IOB2 tags, sorted ordinally (<c>B-PER</c>, <c>I-LOC</c> → <c>LOC</c>, <c>PER</c>).</summary>
    public static IReadOnlyList<string> DistinctEntityTypes(IEnumerable<TaggedSentence> sentences)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        var types = new SortedSet<string>(StringComparer.Ordinal);
        foreach (TaggedSentence sentence in sentences)
        {
            foreach (string tag in sentence.Tags)
            {
                if (IobTag.TryParse(tag, out _, out string type))
                {
                    types.Add(type);
                }
            }
        }

        return [.. types];
    }

    /// <summary>
    /// The label set for a token-classification head: <c>O</c> first, then <c>B-TYPE</c> and <c>I-TYPE</c> for every
    /// entity type in ordinal order — both prefixes even if the data has only one of them, so the model can predict a
    /// continuation it has not seen — then any other tag (not IOB2-shaped) in ordinal order.
    /// </summary>
    public static IReadOnlyList<string> DistinctTags(IEnumerable<TaggedSentence> sentences)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        List<TaggedSentence> all = [.. sentences];
        var others = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string tag in all.SelectMany(s => s.Tags))
        {
            if (!IobTag.IsValid(tag))
            {
                others.Add(tag);
            }
        }

        var labels = new List<string> { IobTag.Outside };
        foreach (string type in DistinctEntityTypes(all))
        {
            labels.Add("B-" + type);
            labels.Add("I-" + type);
        }

        labels.AddRange(others);
        return labels;
    }

    private static bool Continues(string previousTag, string type) =>
        IobTag.TryParse(previousTag, out _, out string previousType) && previousType == type;

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "...";
}
