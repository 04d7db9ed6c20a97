namespace Bert.Sharp.Benchmarks.Support;

/// <summary>The real sentences the benchmarks run on: the 1,000 Amazon review sentences shipped under samples/data.</summary>
internal static class BenchmarkData
{
    private static readonly Lazy<IReadOnlyList<string>> Sentences = new(() =>
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "samples", "data", "amazon_cells_labelled.txt");
            if (File.Exists(candidate))
            {
                return File.ReadLines(candidate).Select(line => line.Split('\t')[0]).Where(s => s.Length > 0).ToArray();
            }
        }

        throw new FileNotFoundException($"samples/data/amazon_cells_labelled.txt not found above {AppContext.BaseDirectory}.");
    });

    /// <summary>The sentences, in file order.</summary>
    public static IReadOnlyList<string> AmazonSentences => Sentences.Value;
}
