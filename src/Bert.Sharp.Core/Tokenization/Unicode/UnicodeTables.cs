using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Bert.Sharp.Tokenization.Unicode;

/// <summary>
/// The Unicode Character Database tables of the BERT normalizer and pre-tokenizer, read from <c>UnicodeTables.txt</c>
/// (embedded in this assembly, written by tools/UnicodeTables and never by hand). The tables are data, so they live in a
/// data file that the generator rewrites whole rather than in generated source.
/// </summary>
/// <remarks>
/// The file: <c>#</c> comment lines, a <c>version</c> line, then sections headed <c>[Name]</c> holding hexadecimal numbers.
/// A table section lists its numbers in order; a mapping section lists one character a line, its code point first, then
/// the code points it maps to.
/// </remarks>
internal sealed class UnicodeTables
{
    /// <summary>The manifest name of the embedded table file.</summary>
    public const string ResourceName = "Bert.Sharp.Tokenization.Unicode.UnicodeTables.txt";

    private static readonly string[] TableSections = ["ClassRuns", "CombiningClassRuns", "CompositionPairs", "CompositionResults"];
    private static readonly string[] MappingSections = ["Decomposition", "Compatibility", "Lowercase"];

    private UnicodeTables(string version, Dictionary<string, List<long[]>> sections, string source)
    {
        Version = version;
        ClassRuns = Narrow<uint>(Table(sections, "ClassRuns", source), "ClassRuns", source);
        CombiningClassRuns = Narrow<uint>(Table(sections, "CombiningClassRuns", source), "CombiningClassRuns", source);
        CompositionPairs = Sorted(Table(sections, "CompositionPairs", source), "CompositionPairs", source);
        CompositionResults = Narrow<int>(Table(sections, "CompositionResults", source), "CompositionResults", source);
        if (CompositionPairs.Length != CompositionResults.Length)
        {
            throw new InvalidDataException($"{source}: [CompositionPairs] holds {CompositionPairs.Length} numbers but [CompositionResults] {CompositionResults.Length}.");
        }

        Decompositions = Mapping(sections, "Decomposition", source);
        CompatibilityDecompositions = Mapping(sections, "Compatibility", source);
        LowercaseMappings = Mapping(sections, "Lowercase", source);
    }

    /// <summary>The version of the Unicode Character Database the tables were generated from.</summary>
    public string Version { get; }

    /// <summary>Runs of equal character-class flags: <c>(first code point &lt;&lt; 8) | flags</c>, ascending.</summary>
    public uint[] ClassRuns { get; }

    /// <summary>Runs of equal canonical combining class (Unicode 9.0): <c>(first code point &lt;&lt; 8) | class</c>, ascending.</summary>
    public uint[] CombiningClassRuns { get; }

    /// <summary>Canonical compositions (Unicode 9.0): <c>(first &lt;&lt; 21) | second</c>, sorted; each composes to <see cref="CompositionResults"/> at the same index.</summary>
    public long[] CompositionPairs { get; }

    /// <summary>What each of <see cref="CompositionPairs"/> composes to.</summary>
    public int[] CompositionResults { get; }

    /// <summary>Full canonical decompositions (Unicode 9.0) of all characters but Hangul syllables.</summary>
    public CodePointMapping Decompositions { get; }

    /// <summary>Full compatibility decompositions (Unicode 9.0) that differ from the canonical one, Hangul syllables aside.</summary>
    public CodePointMapping CompatibilityDecompositions { get; }

    /// <summary>Full lower-case mappings (as Rust's <c>char::to_lowercase</c>) of the characters that have one.</summary>
    public CodePointMapping LowercaseMappings { get; }

    /// <summary>Reads the table file embedded in this assembly.</summary>
    /// <exception cref="InvalidDataException">The resource is missing or malformed (a broken build).</exception>
    public static UnicodeTables ReadEmbedded()
    {
        using Stream stream = typeof(UnicodeTables).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidDataException($"The embedded resource '{ResourceName}' is missing from {typeof(UnicodeTables).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return Read(reader, ResourceName);
    }

    /// <summary>Reads a table file.</summary>
    /// <param name="reader">The file's text.</param>
    /// <param name="source">The file's name, for error messages.</param>
    /// <exception cref="InvalidDataException">A line is malformed, a section is missing, repeated or unknown, or a value is out of range or out of order; the message names the line.</exception>
    // Runs once per process, at the tokenizer's first use: compiled optimised at once rather than through tier 0.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static UnicodeTables Read(TextReader reader, string source)
    {
        ArgumentNullException.ThrowIfNull(reader);
        string? version = null;
        var sections = new Dictionary<string, List<long[]>>(StringComparer.Ordinal);
        List<long[]>? current = null;
        int lineNumber = 0;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            ReadOnlySpan<char> text = line.AsSpan().Trim();
            if (text.IsEmpty || text[0] == '#')
            {
                continue;
            }

            if (text.StartsWith("version ", StringComparison.Ordinal))
            {
                version = text["version ".Length..].Trim().ToString();
            }
            else if (text[0] == '[' && text[^1] == ']')
            {
                string name = text[1..^1].ToString();
                if (!TableSections.Contains(name) && !MappingSections.Contains(name))
                {
                    throw new InvalidDataException($"{source}, line {lineNumber}: unknown section [{name}].");
                }

                current = [];
                if (!sections.TryAdd(name, current))
                {
                    throw new InvalidDataException($"{source}, line {lineNumber}: section [{name}] appears twice.");
                }
            }
            else
            {
                if (current is null)
                {
                    throw new InvalidDataException($"{source}, line {lineNumber}: numbers before the first [section].");
                }

                current.Add(Numbers(text, source, lineNumber));
            }
        }

        return new UnicodeTables(version ?? throw new InvalidDataException($"{source}: no 'version' line."), sections, source);
    }

    // The hexadecimal numbers of a line, separated by white space.
    private static long[] Numbers(ReadOnlySpan<char> line, string source, int lineNumber)
    {
        var numbers = new List<long>(16);
        int i = 0;
        while (i < line.Length)
        {
            if (char.IsWhiteSpace(line[i]))
            {
                i++;
                continue;
            }

            int start = i;
            while (i < line.Length && !char.IsWhiteSpace(line[i]))
            {
                i++;
            }

            ReadOnlySpan<char> token = line[start..i];
            if (!long.TryParse(token, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long value) || value < 0)
            {
                throw new InvalidDataException($"{source}, line {lineNumber}: '{token}' is not a hexadecimal number.");
            }

            numbers.Add(value);
        }

        return [.. numbers];
    }

    private static long[] Table(Dictionary<string, List<long[]>> sections, string name, string source)
    {
        if (!sections.TryGetValue(name, out List<long[]>? rows))
        {
            throw new InvalidDataException($"{source}: section [{name}] is missing.");
        }

        var values = new List<long>(rows.Count * 16);
        foreach (long[] row in rows)
        {
            values.AddRange(row);
        }

        return [.. values];
    }

    private static T[] Narrow<T>(long[] values, string section, string source)
        where T : struct, System.Numerics.IBinaryInteger<T>
    {
        var narrowed = new T[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            narrowed[i] = T.CreateSaturating(values[i]);
            if (long.CreateTruncating(narrowed[i]) != values[i])
            {
                throw new InvalidDataException($"{source}: [{section}] holds {values[i]:X}, out of range for {typeof(T).Name}.");
            }
        }

        return narrowed;
    }

    private static long[] Sorted(long[] values, string section, string source)
    {
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] <= values[i - 1])
            {
                throw new InvalidDataException($"{source}: [{section}] is not in ascending order at {values[i]:X}.");
            }
        }

        return values;
    }

    // One line a character: its code point, then what it maps to (UTF-16 here, as the normalizer works on chars).
    private static CodePointMapping Mapping(Dictionary<string, List<long[]>> sections, string name, string source)
    {
        if (!sections.TryGetValue(name, out List<long[]>? rows))
        {
            throw new InvalidDataException($"{source}: section [{name}] is missing.");
        }

        var keys = new int[rows.Count];
        var starts = new ushort[rows.Count + 1];
        var chars = new StringBuilder();
        for (int i = 0; i < rows.Count; i++)
        {
            long[] row = rows[i];
            if (row.Length < 2 || Array.Exists(row, cp => cp > UnicodeMaxCodePoint) || (i > 0 && row[0] <= keys[i - 1]))
            {
                throw new InvalidDataException($"{source}: [{name}] entry {i + 1} ({string.Join(' ', row.Select(cp => cp.ToString("X", CultureInfo.InvariantCulture)))}) is not a code point above the previous one followed by the code points it maps to.");
            }

            keys[i] = (int)row[0];
            starts[i] = checked((ushort)chars.Length);
            foreach (long cp in row.AsSpan(1))
            {
                chars.Append(char.ConvertFromUtf32((int)cp));
            }
        }

        starts[rows.Count] = checked((ushort)chars.Length);
        return new CodePointMapping(keys, starts, chars.ToString());
    }

    private const int UnicodeMaxCodePoint = 0x10FFFF;
}
