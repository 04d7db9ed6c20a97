namespace Bert.Sharp.Tests.Docs;

/// <summary>
/// Every C# block of README.md and docs/ compiles against the library as it is: documentation that drifts from the API
/// fails here, not in a newcomer's first app.
/// </summary>
public sealed class DocsCompileTests
{
    /// <summary>The pages, one test case each.</summary>
    public static TheoryData<string> Pages() => new(MarkdownCodeBlocks.Pages());

    [Theory]
    [MemberData(nameof(Pages))]
    public void Every_csharp_block_of_the_page_compiles(string page)
    {
        IReadOnlyList<MarkdownCodeBlock> blocks = MarkdownCodeBlocks.Read(page);
        var errors = new List<string>();
        foreach (IReadOnlyList<MarkdownCodeBlock> program in DocsProgramCompiler.Programs(blocks))
        {
            errors.AddRange(DocsProgramCompiler.Compile(program));
        }

        Assert.True(errors.Count == 0, $"{page}: {errors.Count} compile error(s):\n" + string.Join('\n', errors.Take(40)));
    }

    [Fact]
    public void Blocks_left_uncompiled_say_why_and_are_few()
    {
        var skipped = MarkdownCodeBlocks.Pages().SelectMany(MarkdownCodeBlocks.Read).Where(b => b.NotCompiledReason is not null).ToList();
        int all = MarkdownCodeBlocks.Pages().SelectMany(MarkdownCodeBlocks.Read).Count();

        Assert.True(all >= 25, $"only {all} C# blocks found in README.md and docs/: is the reader broken?");
        Assert.All(skipped, b => Assert.True(b.NotCompiledReason!.Length >= 10, $"{b}: say why the block is not compiled"));
        Assert.True(skipped.Count * 5 <= all, $"{skipped.Count} of {all} blocks are not compiled: " + string.Join(", ", skipped));
    }

    [Fact]
    public void A_block_that_does_not_compile_is_reported_with_its_page_and_line()
    {
        var program = new[] { new MarkdownCodeBlock("docs/example.md", 10, "using Bert.Sharp;\nint x = \"text\";", null) };

        IReadOnlyList<string> errors = DocsProgramCompiler.Compile(program);

        Assert.Contains(errors, e => e.StartsWith("docs/example.md:12:", StringComparison.Ordinal) && e.Contains("CS0029", StringComparison.Ordinal));
    }
}
