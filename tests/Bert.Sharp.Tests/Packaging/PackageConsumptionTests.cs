using System.Globalization;
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
        string cachedPackage = Path.Combine(NuGetPackagesFolder(), "bert.sharp", version);
        try
        {
            // Pack from a copy of the sources, so the test host's own build output is never rewritten under it.
            string source = Path.Combine(work, "source");
            CopySources(source);
            string feed = Path.Combine(work, "feed");
            Dotnet(source, "pack", "src/Bert.Sharp/Bert.Sharp.csproj", "-c", "Release", "-o", feed, $"-p:Version={version}");
            Assert.True(File.Exists(Path.Combine(feed, $"Bert.Sharp.{version}.nupkg")), "no package was produced");
            Assert.True(File.Exists(Path.Combine(feed, $"Bert.Sharp.{version}.snupkg")), "no symbols package was produced");

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
            TryDelete(cachedPackage);
        }
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

        string projectRoot = RepositoryPaths.Combine("src", "Bert.Sharp");
        foreach (string file in Directory.EnumerateFiles(projectRoot, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(projectRoot, file);
            string first = relative.Split(Path.DirectorySeparatorChar)[0];
            if (first is "bin" or "obj")
            {
                continue;
            }

            string target = Path.Combine(destination, "src", "Bert.Sharp", relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
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
