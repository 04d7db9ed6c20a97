using System.Reflection;
using Bert.Sharp.Tests.TestSupport;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Bert.Sharp.Tests.FolderLayers;

/// <summary>
/// Measures which top-level folder of a source project uses types and members declared in which other folder: a semantic
/// model (Roslyn) over the project's source files, every name resolved to its declaration.
/// </summary>
internal static class FolderDependencies
{
    /// <summary>The name used for files directly in the project folder.</summary>
    public const string RootFolder = "(root)";

    // The implicit usings of a library project (ImplicitUsings enabled, Microsoft.NET.Sdk).
    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    // What the project's source generators (LoggerMessage, LibraryImport) would fill in: partial methods without bodies.
    private static readonly HashSet<string> GeneratorGaps = new(StringComparer.Ordinal) { "CS8795", "CS0759", "CS8796" };

    /// <summary>For each folder of <paramref name="projectDirectory"/>, the other folders whose declarations its code uses.</summary>
    /// <remarks>The compilation is named after the project's assembly, so the internals other packages show it resolve.</remarks>
    public static (SortedDictionary<string, SortedSet<string>> Table, IReadOnlyList<string> Errors, IReadOnlyDictionary<string, List<string>> Uses) Measure(string projectDirectory, string assemblyName, IEnumerable<string> excludedAssemblies)
    {
        string[] files = [.. Directory.GetFiles(projectDirectory, "*.cs", SearchOption.AllDirectories)
            .Where(f => !IsBuildOutput(Path.GetRelativePath(projectDirectory, f)))
            .Order(StringComparer.Ordinal)];
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        List<SyntaxTree> trees = [.. files.Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), parse, f))];

        // Code generated at build time into a folder of obj (protoc's ONNX types: obj/<configuration>/<tfm>/Onnx/Proto) counts
        // as that folder's; the generated files directly in obj/<configuration>/<tfm> (assembly info, usings) are not read.
        var generatedFolders = new Dictionary<string, string>(StringComparer.Ordinal);
        string? output = GeneratedOutput(projectDirectory);
        if (output is not null)
        {
            foreach (string file in Directory.GetFiles(output, "*.cs", SearchOption.AllDirectories).Where(f => Path.GetDirectoryName(f) != output).Order(StringComparer.Ordinal))
            {
                string relative = Path.GetRelativePath(output, file);
                generatedFolders[file] = relative[..relative.IndexOfAny(['/', '\\'])];
                trees.Add(CSharpSyntaxTree.ParseText(File.ReadAllText(file), parse, file));
            }
        }

        trees.Add(CSharpSyntaxTree.ParseText(ImplicitUsings, parse, "ImplicitUsings.g.cs"));
        var compilation = CSharpCompilation.Create(
            assemblyName,
            trees,
            References(excludedAssemblies),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));

        var table = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        var examples = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (SyntaxTree tree in trees.Where(t => t.FilePath.StartsWith(projectDirectory, StringComparison.Ordinal)))
        {
            if (generatedFolders.ContainsKey(tree.FilePath))
            {
                continue;
            }

            string from = FolderOf(projectDirectory, tree.FilePath);
            SortedSet<string> uses = Row(table, from);
            SemanticModel model = compilation.GetSemanticModel(tree);
            foreach (SyntaxNode node in tree.GetRoot().DescendantNodes().Where(n => n is SimpleNameSyntax))
            {
                SymbolInfo info = model.GetSymbolInfo(node);
                ISymbol? symbol = info.Symbol ?? info.CandidateSymbols.FirstOrDefault();
                foreach (string to in DeclaringFolders(projectDirectory, symbol, generatedFolders))
                {
                    if (to != from)
                    {
                        uses.Add(to);
                        if (!examples.TryGetValue($"{from} → {to}", out List<string>? list))
                        {
                            list = [];
                            examples[$"{from} → {to}"] = list;
                        }

                        if (list.Count < 12)
                        {
                            list.Add($"{Path.GetRelativePath(projectDirectory, tree.FilePath)}:{node.GetLocation().GetLineSpan().StartLinePosition.Line + 1} {symbol}");
                        }
                    }
                }
            }
        }

        string[] errors = [.. compilation.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error && !GeneratorGaps.Contains(d.Id))
            .Select(d => d.ToString())];
        return (table, errors, examples);
    }

    /// <summary>The pairs of folders that use each other, as "A ↔ B" with A before B.</summary>
    public static IReadOnlyList<string> Cycles(SortedDictionary<string, SortedSet<string>> table) =>
        [.. table.SelectMany(row => row.Value.Where(to => string.CompareOrdinal(row.Key, to) < 0 && table.TryGetValue(to, out SortedSet<string>? back) && back.Contains(row.Key)).Select(to => $"{row.Key} ↔ {to}"))];

    /// <summary>The table as Markdown rows: <c>| Folder | Uses |</c>.</summary>
    public static IReadOnlyList<string> MarkdownRows(SortedDictionary<string, SortedSet<string>> table) =>
        [.. table.Select(row => $"| {row.Key} | {(row.Value.Count == 0 ? "—" : string.Join(", ", row.Value))} |")];

    private static SortedSet<string> Row(SortedDictionary<string, SortedSet<string>> table, string folder)
    {
        if (!table.TryGetValue(folder, out SortedSet<string>? row))
        {
            row = new SortedSet<string>(StringComparer.Ordinal);
            table[folder] = row;
        }

        return row;
    }

    // A member counts where it is declared (partial types may span files); a type where its first part is declared.
    private static IEnumerable<string> DeclaringFolders(string projectDirectory, ISymbol? symbol, Dictionary<string, string> generatedFolders)
    {
        if (symbol is null || symbol is INamespaceSymbol)
        {
            yield break;
        }

        symbol = symbol is IMethodSymbol { ReducedFrom: IMethodSymbol reduced } ? reduced : symbol;
        symbol = symbol.OriginalDefinition;
        if (symbol is IParameterSymbol or ILocalSymbol or ILabelSymbol or IRangeVariableSymbol or ITypeParameterSymbol)
        {
            yield break;
        }

        Location? location = symbol.Locations.FirstOrDefault(l => l.IsInSource);
        string? path = location?.SourceTree?.FilePath;
        if (path is null)
        {
            yield break;
        }

        if (generatedFolders.TryGetValue(path, out string? generated))
        {
            yield return generated;
        }
        else if (path.StartsWith(projectDirectory, StringComparison.Ordinal))
        {
            yield return FolderOf(projectDirectory, path);
        }
    }

    private static string FolderOf(string projectDirectory, string file)
    {
        string relative = Path.GetRelativePath(projectDirectory, file);
        int slash = relative.IndexOfAny(['/', '\\']);
        return slash < 0 ? RootFolder : relative[..slash];
    }

    // The intermediate folder of the configuration the tests were built in (else any), e.g. obj/Release/net10.0.
    private static string? GeneratedOutput(string projectDirectory)
    {
        string obj = Path.Combine(projectDirectory, "obj");
#if DEBUG
        string configuration = "Debug";
#else
        string configuration = "Release";
#endif
        string[] candidates = Directory.Exists(obj) ? Directory.GetDirectories(obj, "net*", SearchOption.AllDirectories) : [];
        return candidates.FirstOrDefault(c => c.Contains(Path.DirectorySeparatorChar + configuration + Path.DirectorySeparatorChar, StringComparison.Ordinal)) ?? candidates.FirstOrDefault();
    }

    private static bool IsBuildOutput(string relative) =>
        relative.StartsWith("obj" + Path.DirectorySeparatorChar, StringComparison.Ordinal) || relative.StartsWith("bin" + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private static List<MetadataReference> References(IEnumerable<string> excludedAssemblies)
    {
        var excluded = new HashSet<string>(excludedAssemblies, StringComparer.OrdinalIgnoreCase);
        var byName = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string trusted = (string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!;
        foreach (string path in trusted.Split(Path.PathSeparator).Concat(Directory.GetFiles(AppContext.BaseDirectory, "*.dll")))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (byName.ContainsKey(name) || excluded.Contains(name) || name.Contains("Tests", StringComparison.Ordinal) || !IsManaged(path))
            {
                continue;
            }

            byName[name] = path;
        }

        return [.. byName.Values.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))];
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
