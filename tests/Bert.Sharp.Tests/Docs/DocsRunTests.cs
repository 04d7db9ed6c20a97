using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Docs;

/// <summary>
/// The documentation's programs marked <c>&lt;!-- runs --&gt;</c> run as a newcomer would run them: compiled from the
/// page, in an empty folder with the files they name copied in, on the embedded model. Compiling proves the API names;
/// running proves the quick start works as written (files found, folders loaded, output printed).
/// </summary>
[Collection(DocsRunGroup.Name)]
public sealed class DocsRunTests : IDisposable
{
    private readonly string dir = TestTemp.NewDirectory("docs-run");

    /// <summary>Every runnable program of every page: "page:line".</summary>
    public static TheoryData<string> RunnablePrograms() => new(Runnable());

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    [MemberData(nameof(RunnablePrograms))]
    public void The_program_runs_as_written(string where)
    {
        (string output, string folder) = Run(where);
        Assert.False(string.IsNullOrWhiteSpace(output), $"{where} printed nothing");
        if (where.StartsWith("README.md:", StringComparison.Ordinal))
        {
            // The quick start: trains, saves, reloads with TextClassifier and predicts.
            Assert.Matches(@"held-out accuracy \d+(\.\d)? ?%, trained in \d+ s", output);
            Assert.Contains("positive (", output, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(folder, "sentiment-model", "config.json")), "the quick start saved no model folder");
        }
        else if (where.StartsWith("docs/embeddings.md:", StringComparison.Ordinal))
        {
            // Semantic search: the meal query's best hit is the sentence about eating.
            Assert.Contains("#0  A man is eating food.", output.Split('\n')[0], StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_readme_quick_start_and_the_semantic_search_example_are_among_the_programs_run()
    {
        IReadOnlyList<string> runnable = Runnable();
        Assert.Contains(runnable, w => w.StartsWith("README.md:", StringComparison.Ordinal));
        Assert.Contains(runnable, w => w.StartsWith("docs/embeddings.md:", StringComparison.Ordinal));
    }

    private static List<string> Runnable() =>
        [.. MarkdownCodeBlocks.Pages()
            .SelectMany(page => DocsProgramCompiler.Programs(MarkdownCodeBlocks.Read(page)))
            .Where(program => program[0].RunsWith is not null)
            .Select(program => program[0].ToString())];

    private (string Output, string Folder) Run(string where)
    {
        string page = where[..where.LastIndexOf(':')];
        int line = int.Parse(where[(where.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        IReadOnlyList<MarkdownCodeBlock> program = DocsProgramCompiler.Programs(MarkdownCodeBlocks.Read(page)).Single(p => p[0].Line == line);
        string folder = Path.Combine(dir, Path.GetFileNameWithoutExtension(page) + "-" + line);
        Directory.CreateDirectory(folder);
        foreach (string file in program[0].RunsWith!)
        {
            File.Copy(RepositoryPaths.Combine(file), Path.Combine(folder, Path.GetFileName(file)));
        }

        return (DocsProgramCompiler.Run(program, folder), folder);
    }
}

/// <summary>The docs' programs change the process's current directory while they run: nothing runs beside them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DocsRunGroup
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Docs programs (current directory)";
}
