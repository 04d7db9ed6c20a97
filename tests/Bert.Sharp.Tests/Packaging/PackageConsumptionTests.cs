using System.Globalization;
using System.IO.Compression;
using System.Xml.Linq;
using Bert.Sharp.Tests.TestSupport;
using Xunit.Abstractions;

namespace Bert.Sharp.Tests.Packaging;

/// <summary>
/// The way users meet the library: pack Bert.Sharp into a local folder feed, create a brand-new console app elsewhere,
/// <c>dotnet add package Bert.Sharp</c> from that feed, and run a program that trains and predicts. Proves the
/// package alone brings a working CPU back end and that its buildTransitive libstdc++ fix reaches the app.
/// </summary>
public class PackageConsumptionTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(8);

    [Fact]
    public void A_new_console_app_adds_the_package_trains_and_predicts()
    {
        string work = TestAssets.NewTempDirectory("package");
        string version = "0.1.0-ci." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);
        string[] cachedPackages = [Path.Combine(NuGetPackagesFolder(), "bert.sharp", version), Path.Combine(NuGetPackagesFolder(), "bert.sharp.core", version)];
        try
        {
            // Pack from a copy of the sources, so the test host's own build output is never rewritten under it.
            string source = Path.Combine(work, "source");
            CopySources(source);
            string feed = Path.Combine(work, "feed");
            Dotnet(source, "pack", "src/Bert.Sharp.Core/Bert.Sharp.Core.csproj", "-c", "Release", "-o", feed, $"-p:Version={version}");
            Dotnet(source, "pack", "src/Bert.Sharp/Bert.Sharp.csproj", "-c", "Release", "-o", feed, $"-p:Version={version}");
            Assert.True(File.Exists(Path.Combine(feed, $"Bert.Sharp.Core.{version}.nupkg")), "no Bert.Sharp.Core package was produced");
            Assert.True(File.Exists(Path.Combine(feed, $"Bert.Sharp.{version}.nupkg")), "no package was produced");
            Assert.True(File.Exists(Path.Combine(feed, $"Bert.Sharp.{version}.snupkg")), "no symbols package was produced");
            AssertPackageContents(Path.Combine(feed, $"Bert.Sharp.{version}.nupkg"), version);
            AssertSymbolPackageContents(Path.Combine(feed, $"Bert.Sharp.{version}.snupkg"));

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
            File.WriteAllText(Path.Combine(app, "Program.cs"), ConsumerProgram.Source);
            string run = Dotnet(app, "run", "-c", "Release");
            Assert.Contains("CONSUMER OK", run, StringComparison.Ordinal);
        }
        finally
        {
            TryDelete(work);
            foreach (string cached in cachedPackages)
            {
                TryDelete(cached);
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
            "Bert.Sharp.nuspec", "README.md", "lib/net10.0/Bert.Sharp.dll", "lib/net10.0/Bert.Sharp.xml",
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
        foreach (string file in new[] { "Directory.Build.props", "Directory.Build.targets", "global.json", "nuget.config", "README.md", "LICENSE" })
        {
            string from = RepositoryPaths.Combine(file);
            if (File.Exists(from))
            {
                Directory.CreateDirectory(destination);
                File.Copy(from, Path.Combine(destination, file));
            }
        }

        foreach (string project in new[] { "Bert.Sharp", "Bert.Sharp.Core" })
        {
            string projectRoot = RepositoryPaths.Combine("src", project);
            foreach (string file in Directory.EnumerateFiles(projectRoot, "*", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(projectRoot, file);
                string first = relative.Split(Path.DirectorySeparatorChar)[0];
                if (first is "bin" or "obj")
                {
                    continue;
                }

                string target = Path.Combine(destination, "src", project, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
        }
    }

    private static string NuGetPackagesFolder() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } custom
            ? custom
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // Leave it: a temp folder, not worth failing the test over.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
