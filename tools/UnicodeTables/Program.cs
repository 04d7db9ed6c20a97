using System.Globalization;
using System.Text;
using static UcdFiles;

// Writes src/Bert.Sharp.Core/Tokenization/Unicode/UnicodeTables.txt (embedded, read by UnicodeTables.cs) from the Unicode
// Character Database.
//
//   dotnet run --project tools/UnicodeTables -c Release -- [ucd-directory] [output-file]
//
// ucd-directory defaults to /usr/share/unicode (Debian/Ubuntu: apt-get install unicode-data); it must hold
// UnicodeData.txt, DerivedAge.txt, PropList.txt, SpecialCasing.txt and DerivedNormalizationProps.txt. The tables reproduce what Hugging Face's
// tokenizers (Rust) compute, each with the Unicode version of the crate HF uses for it:
//   - general categories (punctuation P*, control/format/private use, non-spacing marks Mn): the unicode_categories
//     crate, Unicode 8.0: characters assigned later are not in HF's tables, and four characters that changed category
//     since are kept with their 8.0 category (CategoryChangesSince80);
//   - canonical and compatibility decomposition, composition and combining classes (NFD, NFC, NFKD, NFKC):
//     unicode-normalization-alignments 0.1.12,
//     Unicode 9.0;
//   - white space (char::is_whitespace) and lower-casing (char::to_lowercase, full mappings): Rust's standard
//     library, the current Unicode version: the UCD directory's, plus the mappings of characters assigned since then
//     from LowercaseAdditions.txt beside this file (Unicode 17.0.0 over Debian 12's 15.0).
string ucd = args.Length > 0 ? args[0] : "/usr/share/unicode";
string output = args.Length > 1 ? args[1] : Path.Combine(FindRepositoryRoot(), "src", "Bert.Sharp.Core", "Tokenization", "Unicode", "UnicodeTables.txt");

const int CategoryAge = 800; // Unicode 8.0
const int DecompositionAge = 900; // Unicode 9.0

// Characters whose general category changed after Unicode 8.0, with their 8.0 category.
var categoryChangesSince80 = new Dictionary<int, string>
{
    [0x166D] = "Po", // CANADIAN SYLLABICS CHI SIGN: Po -> So (Unicode 12.0)
    [0x111C9] = "Po", // SHARADA SANDHI MARK: Po -> Mn (Unicode 11.0)
    [0x1734] = "Mn", // HANUNOO SIGN PAMUDPOD: Mn -> Mc (Unicode 14.0)
    [0x1171E] = "Mn", // AHOM CONSONANT SIGN MEDIAL RA: Mn -> Mc (Unicode 14.0)
    [0x1885] = "Lo", // MONGOLIAN LETTER ALI GALI BALUDA: Lo -> Mn (Unicode 9.0)
    [0x1886] = "Lo", // MONGOLIAN LETTER ALI GALI THREE BALUDA: Lo -> Mn (Unicode 9.0)
    [0xA9BD] = "Mc", // JAVANESE CONSONANT SIGN KERET: Mc -> Mn (Unicode 12.0)
};

string version = ReadVersion(Path.Combine(ucd, "DerivedAge.txt"));
int[] age = ReadAges(Path.Combine(ucd, "DerivedAge.txt"));
var category = new string[MaxCodePoint + 1];
var combiningClass = new int[MaxCodePoint + 1];
var decomposition = new Dictionary<int, int[]>();
var compatibility = new Dictionary<int, int[]>(); // <tag> mappings only
var lowercase = new Dictionary<int, int[]>();
ReadUnicodeData(Path.Combine(ucd, "UnicodeData.txt"));
bool[] whiteSpace = ReadProperty(Path.Combine(ucd, "PropList.txt"), "White_Space");
ReadSpecialCasing(Path.Combine(ucd, "SpecialCasing.txt"));
string lowercaseVersion = AddLowercaseAdditions(Path.Combine(FindRepositoryRoot(), "tools", "UnicodeTables", "LowercaseAdditions.txt"));

// Character classes of the BERT normalizer and pre-tokenizer, one flags byte per code point.
var flags = new byte[MaxCodePoint + 1];
for (int cp = 0; cp <= MaxCodePoint; cp++)
{
    string gc = age[cp] is > 0 and <= CategoryAge ? categoryChangesSince80.GetValueOrDefault(cp, category[cp] ?? "Cn") : "Cn";
    bool tabOrNewline = cp is '\t' or '\n' or '\r';
    int f = 0;
    if (cp == 0 || cp == 0xFFFD || (!tabOrNewline && gc is "Cc" or "Cf" or "Co" or "Cs"))
    {
        f |= 1; // removed by clean-up
    }

    if (tabOrNewline || whiteSpace[cp])
    {
        f |= 2; // white space
    }

    if (gc[0] == 'P' || cp is (>= 0x21 and <= 0x2F) or (>= 0x3A and <= 0x40) or (>= 0x5B and <= 0x60) or (>= 0x7B and <= 0x7E))
    {
        f |= 4; // punctuation (BERT counts every ASCII symbol as punctuation)
    }

    if (gc == "Mn")
    {
        f |= 8; // non-spacing mark: what accent stripping removes
    }

    flags[cp] = (byte)f;
}

// Canonical combining classes as of Unicode 9.0 (0 for characters HF's NFD does not know).
var ccc9 = new byte[MaxCodePoint + 1];
for (int cp = 0; cp <= MaxCodePoint; cp++)
{
    ccc9[cp] = age[cp] is > 0 and <= DecompositionAge ? (byte)combiningClass[cp] : (byte)0;
}

// Full canonical decompositions (recursive, canonically ordered) of characters of Unicode 9.0; Hangul syllables are
// decomposed by the algorithm at run time.
var fullDecomposition = new SortedDictionary<int, int[]>();
foreach ((int cp, int[] _) in decomposition)
{
    if (age[cp] is > 0 and <= DecompositionAge)
    {
        List<int> parts = [];
        Expand(cp, parts);
        fullDecomposition[cp] = CanonicalOrder(parts);
    }
}

// Canonical compositions (NFC) of Unicode 9.0, as unicode-normalization-alignments 0.1.12 composes: the two code points of
// every two-character canonical decomposition whose character is not Full_Composition_Exclusion (Hangul by the algorithm).
bool[] compositionExcluded = ReadProperty(Path.Combine(ucd, "DerivedNormalizationProps.txt"), "Full_Composition_Exclusion");
var composition = new SortedDictionary<long, int>();
foreach ((int cp, int[] mapping) in decomposition)
{
    if (age[cp] is > 0 and <= DecompositionAge && mapping.Length == 2 && !compositionExcluded[cp])
    {
        composition[((long)mapping[0] << 21) | (uint)mapping[1]] = cp;
    }
}

// Full compatibility decompositions (NFKD) of Unicode 9.0 characters whose compatibility decomposition differs from their
// canonical one: compatibility mappings first, recursively, Hangul syllables by the algorithm, canonically ordered.
var fullCompatibility = new SortedDictionary<int, int[]>();
foreach (int cp in compatibility.Keys.Concat(decomposition.Keys))
{
    if (age[cp] is > 0 and <= DecompositionAge)
    {
        List<int> parts = [];
        ExpandCompatible(cp, parts);
        int[] ordered = CanonicalOrder(parts);
        if (!fullDecomposition.TryGetValue(cp, out int[]? canonical) || !canonical.SequenceEqual(ordered))
        {
            fullCompatibility[cp] = ordered; // only where it differs from the canonical one, which is looked up second
        }
    }
}

var text = new StringBuilder();
text.AppendLine($"# Generated by tools/UnicodeTables from the Unicode Character Database {version}; do not edit.");
text.AppendLine("# Regenerate: dotnet run --project tools/UnicodeTables -c Release -- /usr/share/unicode");
text.AppendLine("# Read by UnicodeTables.cs. All numbers are hexadecimal. A table lists its numbers, 16 to a line; a mapping lists one");
text.AppendLine("# character a line: its code point, then the code points it maps to.");
text.AppendLine($"version {version}");
WriteTable("ClassRuns", "Runs of equal character-class flags: (first code point << 8) | flags.", Runs(flags));
WriteTable("CombiningClassRuns", "Runs of equal canonical combining class (Unicode 9.0): (first code point << 8) | class.", Runs(ccc9));
WriteMapping("Decomposition", "Full canonical decompositions (Unicode 9.0) of all characters but Hangul syllables.", fullDecomposition);
WriteMapping("Compatibility", "Full compatibility decompositions (Unicode 9.0) that differ from the canonical one (look that up second), Hangul syllables aside.", fullCompatibility);
WriteTable("CompositionPairs", "Canonical compositions (Unicode 9.0): (first << 21) | second, sorted; each composes to the entry of CompositionResults at the same index.", [.. composition.Keys]);
WriteTable("CompositionResults", "What each of CompositionPairs composes to.", [.. composition.Values]);
WriteMapping("Lowercase", $"Full lower-case mappings (Unicode {lowercaseVersion}: {version} and tools/UnicodeTables/LowercaseAdditions.txt) that differ from the character.", new SortedDictionary<int, int[]>(lowercase));

Directory.CreateDirectory(Path.GetDirectoryName(output)!);
File.WriteAllText(output, text.ToString().ReplaceLineEndings("\n"));
Console.WriteLine($"Unicode {version}: {Runs(flags).Count} class runs, {Runs(ccc9).Count} combining-class runs, " +
    $"{fullDecomposition.Count} decompositions, {fullCompatibility.Count} compatibility decompositions, {composition.Count} compositions, {lowercase.Count} lower-case mappings -> {output} ({new FileInfo(output).Length:N0} bytes)");
return 0;

void ExpandCompatible(int cp, List<int> parts)
{
    if (cp is >= 0xAC00 and <= 0xD7A3)
    {
        int index = cp - 0xAC00;
        parts.Add(0x1100 + (index / 588));
        parts.Add(0x1161 + (index % 588 / 28));
        if (index % 28 > 0)
        {
            parts.Add(0x11A7 + (index % 28));
        }
    }
    else if (compatibility.TryGetValue(cp, out int[]? mapping) || decomposition.TryGetValue(cp, out mapping))
    {
        foreach (int part in mapping)
        {
            ExpandCompatible(part, parts);
        }
    }
    else
    {
        parts.Add(cp);
    }
}

void Expand(int cp, List<int> parts)
{
    if (decomposition.TryGetValue(cp, out int[]? mapping))
    {
        foreach (int part in mapping)
        {
            Expand(part, parts);
        }
    }
    else
    {
        parts.Add(cp);
    }
}

int[] CanonicalOrder(List<int> parts)
{
    // Stable sort of each run of non-starters by combining class.
    int[] result = [.. parts];
    for (int i = 1; i < result.Length; i++)
    {
        for (int j = i; j > 0 && ccc9[result[j]] != 0 && ccc9[result[j - 1]] > ccc9[result[j]]; j--)
        {
            (result[j], result[j - 1]) = (result[j - 1], result[j]);
        }
    }

    return result;
}

List<uint> Runs(byte[] values)
{
    var runs = new List<uint>();
    for (int cp = 0; cp <= MaxCodePoint; cp++)
    {
        if (cp == 0 || values[cp] != values[cp - 1])
        {
            runs.Add(((uint)cp << 8) | values[cp]);
        }
    }

    return runs;
}

void WriteTable<T>(string name, string summary, IReadOnlyList<T> values)
    where T : IFormattable
{
    text.AppendLine().AppendLine("# " + summary).AppendLine($"[{name}]");
    for (int i = 0; i < values.Count; i += 16)
    {
        text.AppendJoin(' ', values.Skip(i).Take(16).Select(v => v.ToString("X", CultureInfo.InvariantCulture))).AppendLine();
    }
}

void WriteMapping(string name, string summary, SortedDictionary<int, int[]> mappings)
{
    text.AppendLine().AppendLine("# " + summary).AppendLine($"[{name}]");
    foreach ((int cp, int[] mapping) in mappings)
    {
        text.AppendJoin(' ', mapping.Prepend(cp).Select(c => c.ToString("X", CultureInfo.InvariantCulture))).AppendLine();
    }
}

void ReadUnicodeData(string path)
{
    int rangeStart = -1;
    foreach (string line in File.ReadLines(path))
    {
        string[] f = line.Split(';');
        if (f.Length < 15)
        {
            continue;
        }

        int cp = int.Parse(f[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        if (f[1].EndsWith(", First>", StringComparison.Ordinal))
        {
            rangeStart = cp;
            continue;
        }

        int from = f[1].EndsWith(", Last>", StringComparison.Ordinal) ? rangeStart : cp;
        for (int c = from; c <= cp; c++)
        {
            category[c] = f[2];
            combiningClass[c] = int.Parse(f[3], CultureInfo.InvariantCulture);
        }

        if (f[5].Length > 0 && f[5][0] != '<')
        {
            decomposition[cp] = ParseCodePoints(f[5]);
        }
        else if (f[5].Length > 0)
        {
            compatibility[cp] = ParseCodePoints(f[5][(f[5].IndexOf('>', StringComparison.Ordinal) + 1)..]);
        }

        if (f[13].Length > 0)
        {
            lowercase[cp] = ParseCodePoints(f[13]);
        }
    }
}

void ReadSpecialCasing(string path)
{
    // Unconditional mappings only (no language or context condition), as Rust's char::to_lowercase.
    foreach (string line in File.ReadLines(path))
    {
        string data = line.Split('#')[0];
        string[] f = data.Split(';');
        if (f.Length != 5 || f[4].Trim().Length != 0)
        {
            continue;
        }

        int cp = int.Parse(f[0].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        int[] lower = ParseCodePoints(f[1].Trim());
        if (lower.Length == 1 && lower[0] == cp)
        {
            lowercase.Remove(cp);
        }
        else
        {
            lowercase[cp] = lower;
        }
    }
}

// Adds the lower-case mappings of characters the UCD directory does not assign yet; returns the additions' version.
string AddLowercaseAdditions(string path)
{
    string? additionsVersion = null;
    int lineNumber = 0;
    foreach (string line in File.ReadLines(path))
    {
        lineNumber++;
        string data = line.Split('#')[0].Trim();
        if (data.StartsWith("@version ", StringComparison.Ordinal))
        {
            additionsVersion = data["@version ".Length..].Trim();
            continue;
        }

        string[] f = data.Split(';');
        if (f.Length != 3)
        {
            continue;
        }

        int cp = int.Parse(f[0].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        int[] lower = ParseCodePoints(f[1].Trim());
        if (category[cp] is null)
        {
            lowercase[cp] = lower;
        }
        else if (!lowercase.TryGetValue(cp, out int[]? known) || !known.SequenceEqual(lower))
        {
            throw new InvalidDataException($"{path}:{lineNumber}: U+{cp:X4} is assigned in Unicode {version} with another lower-case mapping.");
        }
    }

    return additionsVersion ?? throw new InvalidDataException($"{path}: no '@version' line.");
}
