using System.Text.RegularExpressions;
using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Docs;

/// <summary>
/// docs/api.md is checked against the public API the PublicAPI analyzer records (PublicAPI.Shipped.txt and
/// PublicAPI.Unshipped.txt of each package): every public type is named on the page, and every type a table row of the
/// page introduces exists.
/// </summary>
public sealed partial class ApiPageTests
{
    private static readonly string[] Packages = ["Bert.Sharp.Core", "Bert.Sharp", "Bert.Sharp.Onnx", "Bert.Sharp.Hosting"];

    [Fact]
    public void Every_public_type_is_named_on_the_page()
    {
        HashSet<string> named = NamedOnPage();
        string[] missing = [.. PublicTypes().Where(t => !named.Contains(t.Name)).Select(t => $"{t.Package}: {t.Name}")];

        Assert.True(PublicTypes().Count >= 50, "the PublicAPI files were not read");
        Assert.True(missing.Length == 0, "docs/api.md does not name these public types: " + string.Join(", ", missing));
    }

    [Fact]
    public void Every_type_a_row_introduces_exists()
    {
        var types = new HashSet<string>(PublicTypes().Select(t => t.Name), StringComparer.Ordinal);
        string[] rows = [.. File.ReadAllLines(RepositoryPaths.Combine("docs", "api.md")).Where(l => l.StartsWith("| `", StringComparison.Ordinal))];
        string[] unknown = [.. rows.Select(r => SimpleName(FirstCell().Match(r).Groups[1].Value)).Where(n => !types.Contains(n))];

        Assert.True(rows.Length >= 50, $"only {rows.Length} type rows found in docs/api.md");
        Assert.True(unknown.Length == 0, "docs/api.md introduces types that are not public API: " + string.Join(", ", unknown));
    }

    // Public types: the lines of a PublicAPI file that declare a type (no member signature, value or modifier).
    private static List<(string Package, string Name)> PublicTypes()
    {
        var types = new List<(string, string)>();
        foreach (string package in Packages)
        {
            foreach (string file in new[] { "PublicAPI.Shipped.txt", "PublicAPI.Unshipped.txt" }.Select(f => RepositoryPaths.Combine("src", package, f)).Where(File.Exists))
            {
                foreach (string line in File.ReadAllLines(file).Select(l => l.Trim()))
                {
                    if (line.Length == 0 || line.StartsWith('#') || line.Contains('(', StringComparison.Ordinal) || line.Contains("->", StringComparison.Ordinal) || line.Contains(' ', StringComparison.Ordinal))
                    {
                        continue;
                    }

                    types.Add((package, SimpleName(line)));
                }
            }
        }

        // The model package carries no PublicAPI files (one static class): its exported types stand for them.
        types.AddRange(typeof(Bert.Sharp.Models.MiniLmModel).Assembly.GetExportedTypes().Select(t => ("Bert.Sharp.Models.MiniLM", SimpleName(t.Name.Split('`')[0]))));
        return [.. types.Distinct()];
    }

    private static HashSet<string> NamedOnPage()
    {
        string page = File.ReadAllText(RepositoryPaths.Combine("docs", "api.md"));
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match code in InlineCode().Matches(page))
        {
            foreach (Match word in Identifier().Matches(code.Groups[1].Value))
            {
                names.Add(word.Value);
            }
        }

        return names;
    }

    // "Bert.Sharp.Serving.MicroBatcher<TRequest, TResult>" -> "MicroBatcher"; "Outer.Inner" -> "Inner".
    private static string SimpleName(string qualified)
    {
        string name = qualified.Split('<')[0].Trim();
        return name[(name.LastIndexOf('.') + 1)..];
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex InlineCode();

    [GeneratedRegex("[A-Za-z_][A-Za-z0-9_]*")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"^\| `([^`]+)`")]
    private static partial Regex FirstCell();
}
