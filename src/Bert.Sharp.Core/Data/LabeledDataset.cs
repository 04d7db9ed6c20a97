using System.Globalization;
using System.Text;
using System.Text.Json;
using Bert.Sharp.Data;

namespace Bert.Sharp;

/// <summary>
/// Loads labelled examples from TSV, CSV and JSON Lines files and splits them into train and test sets.
/// </summary>
/// <remarks>
/// In-memory data needs nothing from here: any <c>IReadOnlyList&lt;LabeledExample&gt;</c> trains. Use this class to read
/// files (every error names the file and line) and for a seeded, optionally stratified split.
/// </remarks>
public static class LabeledDataset
{
    /// <summary>Reads a file, choosing the format by extension: <c>.jsonl</c>/<c>.ndjson</c> are JSON Lines, <c>.csv</c> is comma separated, anything else (<c>.tsv</c>, <c>.txt</c>) tab separated.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Columns and label kind; <c>null</c> for the defaults (header row, <c>text</c> and <c>label</c> columns).</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A row is malformed, a column is missing, a text is empty or a label unparsable; the message names file and line.</exception>
    public static IReadOnlyList<LabeledExample> Load(string path, DataFileOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string extension = Path.GetExtension(path).ToUpperInvariant();
        return extension is ".JSONL" or ".NDJSON" ? LoadJsonLines(path, options) : LoadDelimited(path, options);
    }

    /// <summary>Reads a TSV or CSV file (parsed by Sep). CSV fields may be quoted (RFC 4180, with <c>""</c> for a quote
    /// and line breaks inside quotes, read as <c>\n</c>); TSV fields are not. A byte-order mark and CRLF line ends are
    /// fine; blank lines are skipped.</summary>
    /// <inheritdoc cref="Load"/>
    public static IReadOnlyList<LabeledExample> LoadDelimited(string path, DataFileOptions? options = null)
    {
        options ??= new DataFileOptions();
        RequireFile(path);
        char delimiter = options.Delimiter ?? (Path.GetExtension(path).Equals(".csv", StringComparison.OrdinalIgnoreCase) ? ',' : '\t');
        if (!DelimitedRecords.IsSupported(delimiter))
        {
            throw new ArgumentException(
                $"DataFileOptions.Delimiter '{DelimitedRecords.Describe(delimiter)}' (U+{(int)delimiter:X4}) cannot separate fields: use tab or a printable ASCII character other than '\"' and '#'.",
                nameof(options));
        }

        bool quoted = delimiter != '\t';
        var examples = new List<LabeledExample>();
        int textIndex = -1, pairIndex = -1, labelIndex = -1;
        bool first = true;
        foreach ((int line, string[] fields) in DelimitedRecords.Read(path, delimiter, quoted))
        {
            if (first)
            {
                first = false;
                string[] header = options.HasHeader ? [.. fields.Select(f => f.Trim())] : [.. Enumerable.Range(0, fields.Length).Select(i => i.ToString(CultureInfo.InvariantCulture))];
                textIndex = ColumnIndex(header, options.TextColumn, path, line, options.HasHeader);
                labelIndex = ColumnIndex(header, options.LabelColumn, path, line, options.HasHeader);
                pairIndex = options.TextPairColumn is null ? -1 : ColumnIndex(header, options.TextPairColumn, path, line, options.HasHeader);
                if (options.HasHeader)
                {
                    continue;
                }
            }

            int needed = Math.Max(textIndex, Math.Max(labelIndex, pairIndex)) + 1;
            if (fields.Length < needed)
            {
                throw new InvalidDataException($"{path}:{line}: the row has {fields.Length} field(s) but column {needed - 1} is needed (delimiter '{DelimitedRecords.Describe(delimiter)}').");
            }

            LabeledExample? example = Create(fields[textIndex], pairIndex < 0 ? null : fields[pairIndex], fields[labelIndex], null, options, path, line);
            if (example is not null)
            {
                examples.Add(example);
            }
        }

        return examples;
    }

    // File.ReadLines with UTF-8 that refuses invalid bytes (named by file and line) instead of replacing them.
    private static IEnumerable<string> ReadLinesStrict(string path)
    {
        using var reader = new StreamReader(path, StrictUtf8.Encoding, detectEncodingFromByteOrderMarks: true);
        while (true)
        {
            string? line;
            try
            {
                line = reader.ReadLine();
            }
            catch (DecoderFallbackException e)
            {
                throw StrictUtf8.Invalid(path, e);
            }

            if (line is null)
            {
                yield break;
            }

            yield return line;
        }
    }

    /// <summary>Reads a JSON Lines file: one object per line with the text, optional pair and label keys. Labels may be strings, numbers or (multi-label) arrays.</summary>
    /// <inheritdoc cref="Load"/>
    public static IReadOnlyList<LabeledExample> LoadJsonLines(string path, DataFileOptions? options = null)
    {
        options ??= new DataFileOptions();
        RequireFile(path);
        var examples = new List<LabeledExample>();
        int line = 0;
        foreach (string raw in ReadLinesStrict(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(raw))
            {
                continue;
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(raw);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{line}: not valid JSON: {e.Message}", e);
            }

            using (document)
            {
                JsonElement root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    throw new InvalidDataException($"{path}:{line}: expected a JSON object, got {root.ValueKind}.");
                }

                string text = RequiredString(root, options.TextColumn, path, line);
                string? pair = options.TextPairColumn is null ? null : RequiredString(root, options.TextPairColumn, path, line);
                if (!root.TryGetProperty(options.LabelColumn, out JsonElement label))
                {
                    throw new InvalidDataException($"{path}:{line}: key '{options.LabelColumn}' is missing.");
                }

                string? labelText = label.ValueKind switch
                {
                    JsonValueKind.String => label.GetString(),
                    JsonValueKind.Number => label.GetRawText(),
                    JsonValueKind.True or JsonValueKind.False => label.GetRawText(),
                    JsonValueKind.Array => null,
                    _ => throw new InvalidDataException($"{path}:{line}: label '{options.LabelColumn}' is {label.ValueKind}; expected a string, number or array."),
                };
                string[]? labelArray = label.ValueKind == JsonValueKind.Array ? [.. label.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText())] : null;
                LabeledExample? example = Create(text, pair, labelText, labelArray, options, path, line);
                if (example is not null)
                {
                    examples.Add(example);
                }
            }
        }

        return examples;
    }

    /// <summary>
    /// Splits examples into a train and a test set, reproducibly for a given seed. With <paramref name="stratify"/>
    /// (single-label data only) every label keeps its share in both sets.
    /// </summary>
    /// <param name="examples">The examples; not modified.</param>
    /// <param name="testFraction">Share of examples for the test set, in (0, 1).</param>
    /// <param name="seed">Seed of the shuffle.</param>
    /// <param name="stratify">Split each label separately so both sets keep the label balance.</param>
    public static (IReadOnlyList<LabeledExample> Train, IReadOnlyList<LabeledExample> Test) Split(IReadOnlyList<LabeledExample> examples, double testFraction = 0.2, int seed = 42, bool stratify = true)
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (!(testFraction > 0 && testFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "The test fraction must be in (0, 1).");
        }

        var rng = new Training.Pcg32((ulong)seed);
        var train = new List<LabeledExample>();
        var test = new List<LabeledExample>();
        IEnumerable<List<LabeledExample>> strata = stratify && examples.All(e => e.Label is not null)
            ? examples.GroupBy(e => e.Label!, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => g.ToList())
            : [examples.ToList()];
        foreach (List<LabeledExample> stratum in strata)
        {
            int[] order = rng.Permutation(stratum.Count);
            int testCount = (int)Math.Round(stratum.Count * testFraction, MidpointRounding.AwayFromZero);
            for (int i = 0; i < order.Length; i++)
            {
                (i < testCount ? test : train).Add(stratum[order[i]]);
            }
        }

        // Interleave the strata again so neither set is sorted by label.
        int[] trainOrder = rng.Permutation(train.Count);
        int[] testOrder = rng.Permutation(test.Count);
        return ([.. trainOrder.Select(i => train[i])], [.. testOrder.Select(i => test[i])]);
    }

    /// <summary>The distinct labels of <paramref name="examples"/>, sorted ordinally: the class order a new head gets when none is given.</summary>
    public static IReadOnlyList<string> DistinctLabels(IEnumerable<LabeledExample> examples)
    {
        ArgumentNullException.ThrowIfNull(examples);
        return [.. examples.SelectMany(e => e.Labels).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    private static LabeledExample? Create(string text, string? pair, string? label, string[]? labelArray, DataFileOptions options, string path, int line)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return options.SkipEmptyTexts ? null : throw new InvalidDataException($"{path}:{line}: the text is empty (set SkipEmptyTexts to skip such rows).");
        }

        switch (options.LabelKind)
        {
            case ProblemType.Regression:
                if (label is null || !float.TryParse(label.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value))
                {
                    throw new InvalidDataException($"{path}:{line}: regression label '{label}' is not a finite number.");
                }

                return LabeledExample.Regression(text, value, pair);
            case ProblemType.MultiLabelClassification:
                string[] labels = labelArray ?? [.. (label ?? string.Empty).Split(options.MultiLabelSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
                return LabeledExample.MultiLabel(text, labels, pair);
            default:
                if (labelArray is not null)
                {
                    throw new InvalidDataException($"{path}:{line}: the label is an array but the file is read as single-label; set LabelKind = MultiLabelClassification.");
                }

                string trimmed = (label ?? string.Empty).Trim();
                if (trimmed.Length == 0)
                {
                    throw new InvalidDataException($"{path}:{line}: the label is empty.");
                }

                return new LabeledExample(text, trimmed, pair);
        }
    }

    private static string RequiredString(JsonElement root, string key, string path, int line)
    {
        if (!root.TryGetProperty(key, out JsonElement value))
        {
            throw new InvalidDataException($"{path}:{line}: key '{key}' is missing.");
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new InvalidDataException($"{path}:{line}: key '{key}' must be a string, got {value.ValueKind}.");
    }

    private static int ColumnIndex(string[] header, string column, string path, int line, bool hasHeader)
    {
        int index = Array.IndexOf(header, column);
        if (index < 0)
        {
            string known = hasHeader ? string.Join(", ", header.Select(h => $"'{h}'")) : $"0..{header.Length - 1} (the file has no header, so columns are named by index)";
            throw new InvalidDataException($"{path}:{line}: column '{column}' not found; the columns are {known}.");
        }

        return index;
    }

    private static void RequireFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Data file '{path}' does not exist.", path);
        }
    }
}
