using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.FolderLayers;

/// <summary>
/// The folders of src/Bert.Sharp form layers: no two folders use each other's declarations, and docs/architecture.md's
/// dependency table is the measured one (a change that adds a dependency updates the table, or fails here).
/// </summary>
public sealed class FolderDependencyTests
{
    private const string TableStart = "<!-- folder-dependencies:start -->";
    private const string TableEnd = "<!-- folder-dependencies:end -->";

    // Pairs of folders allowed to use each other, each with its reason: none since issue 22. Keep it empty.
    private static readonly Dictionary<string, string> AllowedCycles = new(StringComparer.Ordinal)
    {
    };

    private static readonly Lazy<(SortedDictionary<string, SortedSet<string>> Table, IReadOnlyList<string> Errors, IReadOnlyDictionary<string, List<string>> Uses)> Measured = new(() =>
        FolderDependencies.Measure(RepositoryPaths.Combine("src", "Bert.Sharp"), "Bert.Sharp", ["Bert.Sharp", "Bert.Sharp.Hosting", "Bert.Sharp.Models.MiniLM", "Bert.Sharp.Benchmarks"]));

    [Fact]
    public void The_measurement_compiles_the_project_and_sees_known_dependencies()
    {
        (SortedDictionary<string, SortedSet<string>> table, IReadOnlyList<string> errors, _) = Measured.Value;

        // An unresolved name would hide a dependency: the semantic model must bind the whole project.
        Assert.True(errors.Count == 0, $"{errors.Count} compile error(s) in the measurement:\n" + string.Join('\n', errors.Take(20)));
        Assert.Contains("Modeling", table["Tasks"]);
        Assert.Contains("Modeling", table["Training"]);
        Assert.DoesNotContain("Tasks", table["Modeling"]);
    }

    [Fact]
    public void No_two_folders_use_each_other()
    {
        IReadOnlyList<string> cycles = FolderDependencies.Cycles(Measured.Value.Table);

        string[] unexpected = [.. cycles.Where(c => !AllowedCycles.ContainsKey(c))];
        string[] stale = [.. AllowedCycles.Keys.Where(c => !cycles.Contains(c))];
        Assert.True(unexpected.Length == 0, "Folders that use each other: " + string.Join(", ", unexpected) + "\nMeasured table:\n" + string.Join('\n', FolderDependencies.MarkdownRows(Measured.Value.Table)) + "\nWhere:\n" + string.Join('\n', unexpected.SelectMany(Where)));
        Assert.True(stale.Length == 0, "Broken cycles still in the allow-list (remove them): " + string.Join(", ", stale));
    }

    // The uses behind a cycle "A ↔ B", both ways, for the failure message.
    private static IEnumerable<string> Where(string cycle)
    {
        string[] pair = cycle.Split(" ↔ ");
        foreach (string edge in new[] { $"{pair[0]} → {pair[1]}", $"{pair[1]} → {pair[0]}" })
        {
            yield return edge + ": " + string.Join("; ", Measured.Value.Uses.TryGetValue(edge, out List<string>? uses) ? uses : []);
        }
    }

    [Fact]
    public void Architecture_md_shows_the_measured_table()
    {
        string page = File.ReadAllText(RepositoryPaths.Combine("docs", "architecture.md"));
        int start = page.IndexOf(TableStart, StringComparison.Ordinal);
        int end = page.IndexOf(TableEnd, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, $"docs/architecture.md has no table between {TableStart} and {TableEnd}.");

        string[] documented = [.. page[(start + TableStart.Length)..end].Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| Folder", StringComparison.Ordinal) && !l.StartsWith("| ---", StringComparison.Ordinal))];
        IReadOnlyList<string> measured = FolderDependencies.MarkdownRows(Measured.Value.Table);
        Assert.True(documented.SequenceEqual(measured), "docs/architecture.md's folder table differs from the code. The measured rows:\n" + string.Join('\n', measured));
    }
}
