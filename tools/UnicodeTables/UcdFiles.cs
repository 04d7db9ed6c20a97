using System.Globalization;

// Reading the Unicode Character Database's text files: code point lists, ranges with a value, properties, the version.
internal static class UcdFiles
{
    /// <summary>The last code point.</summary>
    public const int MaxCodePoint = 0x10FFFF;

    public static int[] ParseCodePoints(string text) =>
        [.. text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture))];

    public static IEnumerable<(int First, int Last, string Value)> ReadRanges(string path)
    {
        foreach (string line in File.ReadLines(path))
        {
            string data = line.Split('#')[0].Trim();
            if (data.Length == 0)
            {
                continue;
            }

            string[] f = data.Split(';');
            string[] range = f[0].Trim().Split("..");
            int first = int.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            int last = range.Length > 1 ? int.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) : first;
            yield return (first, last, f[1].Trim());
        }
    }

    public static int[] ReadAges(string path)
    {
        var ages = new int[MaxCodePoint + 1];
        foreach ((int first, int last, string value) in ReadRanges(path))
        {
            string[] parts = value.Split('.');
            int v = (int.Parse(parts[0], CultureInfo.InvariantCulture) * 100) + int.Parse(parts[1], CultureInfo.InvariantCulture);
            for (int cp = first; cp <= last; cp++)
            {
                ages[cp] = v;
            }
        }

        return ages;
    }

    public static bool[] ReadProperty(string path, string property)
    {
        var set = new bool[MaxCodePoint + 1];
        foreach ((int first, int last, string value) in ReadRanges(path))
        {
            if (value == property)
            {
                for (int cp = first; cp <= last; cp++)
                {
                    set[cp] = true;
                }
            }
        }

        return set;
    }

    public static string ReadVersion(string path)
    {
        // First line: "# DerivedAge-15.0.0.txt".
        string first = File.ReadLines(path).First();
        int dash = first.IndexOf('-', StringComparison.Ordinal);
        int dot = first.LastIndexOf(".txt", StringComparison.Ordinal);
        return dash > 0 && dot > dash ? first[(dash + 1)..dot] : throw new InvalidDataException($"{path}: no version in '{first}'");
    }

    public static string FindRepositoryRoot()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "Bert.Sharp.sln")))
            {
                return dir;
            }
        }

        throw new DirectoryNotFoundException("Bert.Sharp.sln not found above " + AppContext.BaseDirectory + ": pass the output file.");
    }
}
