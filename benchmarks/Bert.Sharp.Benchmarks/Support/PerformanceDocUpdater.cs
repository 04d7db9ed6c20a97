using System.Text;
using System.Text.RegularExpressions;

namespace Bert.Sharp.Benchmarks.Support;

/// <summary>
/// Rewrites the generated tables of <c>docs/performance.md</c>: every block between
/// <c>&lt;!-- bench:NAME --&gt;</c> and <c>&lt;!-- /bench:NAME --&gt;</c> is replaced by the BenchmarkDotNet GitHub report
/// whose file name contains NAME (or by a profile's output file NAME.md), leaving the prose around it alone.
/// </summary>
public static partial class PerformanceDocUpdater
{
    [GeneratedRegex(@"<!-- bench:(?<name>[A-Za-z0-9_.-]+) -->.*?<!-- /bench:\k<name> -->", RegexOptions.Singleline)]
    private static partial Regex BlockPattern();

    /// <summary>Updates <paramref name="docPath"/> from the reports under <paramref name="resultsDirectory"/>; returns the names replaced.</summary>
    public static IReadOnlyList<string> Update(string docPath, string resultsDirectory)
    {
        string doc = File.ReadAllText(docPath);
        string[] reports = Directory.Exists(resultsDirectory)
            ? Directory.GetFiles(resultsDirectory, "*.md", SearchOption.AllDirectories)
            : [];
        var replaced = new List<string>();
        string updated = BlockPattern().Replace(doc, match =>
        {
            string name = match.Groups["name"].Value;
            string? report = reports.FirstOrDefault(r => Path.GetFileName(r).Contains(name, StringComparison.Ordinal));
            if (report is null)
            {
                return match.Value;
            }

            replaced.Add(name);
            var block = new StringBuilder();
            block.AppendLine("<!-- bench:" + name + " -->");
            block.AppendLine(File.ReadAllText(report).Trim());
            block.Append("<!-- /bench:" + name + " -->");
            return block.ToString();
        });
        File.WriteAllText(docPath, updated);
        return replaced;
    }
}
