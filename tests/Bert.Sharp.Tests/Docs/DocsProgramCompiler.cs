using System.Reflection;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Bert.Sharp.Tests.Docs;

/// <summary>
/// Compiles documentation blocks as a newcomer's console or web app would: top-level statements with the usings a new
/// <c>Microsoft.NET.Sdk.Web</c> project imports implicitly, against the library's assemblies and their dependencies.
/// </summary>
internal static class DocsProgramCompiler
{
    // The implicit usings of a new Microsoft.NET.Sdk.Web project (a console project has the first seven).
    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        global using System.Net.Http.Json;
        global using Microsoft.AspNetCore.Builder;
        global using Microsoft.AspNetCore.Hosting;
        global using Microsoft.AspNetCore.Http;
        global using Microsoft.AspNetCore.Routing;
        global using Microsoft.Extensions.Configuration;
        global using Microsoft.Extensions.DependencyInjection;
        global using Microsoft.Extensions.Hosting;
        global using Microsoft.Extensions.Logging;
        """;

    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly Lazy<IReadOnlyList<MetadataReference>> References = new(LoadReferences);

    /// <summary>
    /// Groups <paramref name="blocks"/> of one page into programs (a block that starts with <c>using</c> starts one; the
    /// others continue it) and skips the blocks marked as not compiled.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<MarkdownCodeBlock>> Programs(IReadOnlyList<MarkdownCodeBlock> blocks)
    {
        var programs = new List<List<MarkdownCodeBlock>>();
        foreach (MarkdownCodeBlock block in blocks.Where(b => b.NotCompiledReason is null))
        {
            if (programs.Count == 0 || block.StartsProgram)
            {
                programs.Add([]);
            }

            programs[^1].Add(block);
        }

        return programs;
    }

    /// <summary>Compiles one program; returns its errors, each with the page and line it comes from.</summary>
    public static IReadOnlyList<string> Compile(IReadOnlyList<MarkdownCodeBlock> program) => Emit(program, out _);

    /// <summary>
    /// Compiles and runs one program as its <c>Main</c>, in <paramref name="workingDirectory"/> (the process's current
    /// directory while it runs: callers must not run in parallel with tests that use relative paths); returns what it
    /// wrote to the console.
    /// </summary>
    public static string Run(IReadOnlyList<MarkdownCodeBlock> program, string workingDirectory)
    {
        IReadOnlyList<string> errors = Emit(program, out byte[] image);
        Assert.True(errors.Count == 0, $"{program[0]}: {errors.Count} compile error(s):\n" + string.Join('\n', errors.Take(20)));
        Assembly assembly = Assembly.Load(image);
        MethodInfo main = assembly.EntryPoint ?? throw new InvalidOperationException($"{program[0]} has no statements to run.");
        string previousDirectory = Environment.CurrentDirectory;
        TextWriter previousOut = Console.Out;
        using var output = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        Environment.CurrentDirectory = workingDirectory;
        Console.SetOut(output);
        try
        {
            object? result = main.Invoke(null, main.GetParameters().Length == 0 ? null : [Array.Empty<string>()]);
            if (result is Task task)
            {
                task.GetAwaiter().GetResult();
            }
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw new InvalidOperationException($"{program[0]} threw while running: {e.InnerException.Message}\nIt printed:\n{output}", e.InnerException);
        }
        finally
        {
            Console.SetOut(previousOut);
            Environment.CurrentDirectory = previousDirectory;
        }

        return output.ToString();
    }

    private static IReadOnlyList<string> Emit(IReadOnlyList<MarkdownCodeBlock> program, out byte[] image)
    {
        var usings = new List<string>();
        var statements = new StringBuilder();
        var declarations = new StringBuilder();
        foreach (MarkdownCodeBlock block in program)
        {
            string path = block.Page;
            SyntaxTree tree = CSharpSyntaxTree.ParseText(block.Code, ParseOptions);
            var root = (CompilationUnitSyntax)tree.GetRoot();
            foreach (UsingDirectiveSyntax directive in root.Usings)
            {
                string text = directive.ToString().Trim();
                if (!usings.Contains(text))
                {
                    usings.Add(text);
                }
            }

            foreach (MemberDeclarationSyntax member in root.Members)
            {
                // #line maps every diagnostic back to the page: the fence is on block.Line, the code starts one below.
                int line = block.Line + tree.GetLineSpan(member.Span).StartLinePosition.Line + 1;
                StringBuilder target = member is GlobalStatementSyntax ? statements : declarations;
                target.Append("#line ").Append(line).Append(" \"").Append(path).Append("\"\n");
                target.Append(member.ToFullString().TrimStart('\r', '\n')).Append('\n');
            }
        }

        string source = string.Join('\n', usings) + "\n" + statements + "#line default\n" + declarations;
        CSharpCompilation compilation = CSharpCompilation.Create(
            "DocsProgram_" + Guid.NewGuid().ToString("N"),
            [CSharpSyntaxTree.ParseText(ImplicitUsings, ParseOptions), CSharpSyntaxTree.ParseText(source, ParseOptions)],
            References.Value,
            // A page of declarations only (a custom policy, say) is a library; anything with statements is an app.
            new CSharpCompilationOptions(statements.Length > 0 ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable));
        using var stream = new MemoryStream();
        Microsoft.CodeAnalysis.Emit.EmitResult emitted = compilation.Emit(stream);
        image = stream.ToArray();
        return emitted.Diagnostics
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .Select(d =>
            {
                FileLinePositionSpan span = d.Location.GetMappedLineSpan();
                return $"{span.Path}:{span.StartLinePosition.Line + 1}: {d.Id} {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
            })
            .ToList();
    }

    // The runtime's assemblies (ASP.NET Core's included: the test project references that framework) and every
    // assembly next to the tests: the library's packages and their dependencies, as an app that references them gets.
    private static IReadOnlyList<MetadataReference> LoadReferences()
    {
        var byName = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string trusted = (string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!;
        foreach (string path in trusted.Split(Path.PathSeparator).Concat(Directory.GetFiles(AppContext.BaseDirectory, "*.dll")))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (byName.ContainsKey(name) || name.Contains("Tests", StringComparison.Ordinal) || !IsManaged(path))
            {
                continue;
            }

            byName[name] = path;
        }

        return byName.Values.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
    }

    private static bool IsManaged(string path)
    {
        try
        {
            AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
