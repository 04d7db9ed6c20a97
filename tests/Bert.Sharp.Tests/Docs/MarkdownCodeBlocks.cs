using System.Text.RegularExpressions;
using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Docs;

/// <summary>One fenced C# block of a Markdown page.</summary>
/// <param name="Page">The page's path relative to the repository root.</param>
/// <param name="Line">The 1-based line of the opening fence.</param>
/// <param name="Code">The block's text.</param>
/// <param name="NotCompiledReason">The reason given by a <c>&lt;!-- not compiled: reason --&gt;</c> comment on the line
/// before the fence, or <c>null</c> when the block must compile.</param>
/// <param name="RunsWith">For a block that starts a program run by the tests (a <c>&lt;!-- runs --&gt;</c> or
/// <c>&lt;!-- runs with: file, file --&gt;</c> comment on the line before the fence): the repository files copied next
/// to it first (relative paths); <c>null</c> when the block is only compiled.</param>
internal sealed record MarkdownCodeBlock(string Page, int Line, string Code, string? NotCompiledReason, IReadOnlyList<string>? RunsWith = null)
{
    /// <summary>Whether the block opens a new program: it starts with <c>using</c> directives, as a file does.</summary>
    public bool StartsProgram => Regex.IsMatch(Code, @"^\s*(//[^\n]*\n\s*)*using\s+[A-Za-z_][\w.]*\s*;");

    /// <inheritdoc />
    public override string ToString() => $"{Page}:{Line}";
}

/// <summary>
/// Reads the fenced <c>csharp</c> blocks of the Markdown pages. The documentation's convention: a block that starts with
/// <c>using</c> directives starts a program; every other block continues the program of the blocks before it on the
/// same page (variables declared above stay in scope, as in a tutorial). A block that cannot compile on purpose (a list
/// of signatures, a skeleton with <c>...</c>, a package the tests do not reference) says why in a comment on the line
/// before its fence: <c>&lt;!-- not compiled: ... --&gt;</c>. A program short enough to run in the tests says so the same
/// way: <c>&lt;!-- runs --&gt;</c>, or <c>&lt;!-- runs with: samples/data/file.txt --&gt;</c> naming the files it reads.
/// </summary>
internal static class MarkdownCodeBlocks
{
    private static readonly Regex NotCompiled = new(@"^\s*<!--\s*not compiled:\s*(?<why>.+?)\s*-->\s*$");
    private static readonly Regex Runs = new(@"^\s*<!--\s*runs(\s+with:\s*(?<files>.+?))?\s*-->\s*$");

    /// <summary>The pages whose C# blocks are held to compile: README.md and every page under docs/.</summary>
    public static IReadOnlyList<string> Pages()
    {
        var pages = new List<string> { "README.md" };
        pages.AddRange(Directory.GetFiles(RepositoryPaths.Combine("docs"), "*.md")
            .Select(p => Path.GetRelativePath(RepositoryPaths.Root, p).Replace('\\', '/'))
            .Order(StringComparer.Ordinal));
        return pages;
    }

    /// <summary>The C# blocks of <paramref name="page"/> (relative to the repository root), in order.</summary>
    public static IReadOnlyList<MarkdownCodeBlock> Read(string page)
    {
        string[] lines = File.ReadAllLines(RepositoryPaths.Combine(page));
        var blocks = new List<MarkdownCodeBlock>();
        for (int i = 0; i < lines.Length; i++)
        {
            string fence = lines[i].Trim();
            if (!fence.StartsWith("```", StringComparison.Ordinal))
            {
                continue;
            }

            string language = fence[3..].Trim();
            int end = i + 1;
            while (end < lines.Length && !lines[end].Trim().StartsWith("```", StringComparison.Ordinal))
            {
                end++;
            }

            if (language is "csharp" or "cs" or "c#")
            {
                Match reason = i > 0 ? NotCompiled.Match(lines[i - 1]) : Match.Empty;
                Match runs = i > 0 ? Runs.Match(lines[i - 1]) : Match.Empty;
                IReadOnlyList<string>? files = runs.Success
                    ? runs.Groups["files"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    : null;
                blocks.Add(new MarkdownCodeBlock(page, i + 1, string.Join('\n', lines[(i + 1)..end]),
                    reason.Success ? reason.Groups["why"].Value : null, files));
            }

            i = end;
        }

        return blocks;
    }
}
