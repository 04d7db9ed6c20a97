using System.Diagnostics;
using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Reliability;

/// <summary>
/// kill -9 in the middle of saving: a worker process saves two different models into one folder, alternately, and is killed
/// at random moments. Every time, the folder loads as one of the two models, whole (labels and weights belong together).
/// </summary>
public sealed class KillDuringSaveTests
{
    [Fact]
    public void A_killed_save_leaves_one_whole_model()
    {
        string worker = RepositoryPaths.Combine("tests", "SaveWorker", "bin", "Release", "net10.0", "SaveWorker.dll");
        Assert.True(File.Exists(worker), $"{worker} is missing: build the solution (dotnet build Bert.Sharp.sln -c Release)");
        string dir = TestTemp.NewDirectory("kill");
        var random = new Random(17);
        int kills = 0;
        try
        {
            for (int round = 0; round < 6; round++)
            {
                using var process = Start(worker, dir);
                WaitForFirstSave(process);
                Thread.Sleep(random.Next(5, 400));
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                kills++;

                using var loaded = BertForSequenceClassification.FromPretrained(dir);
                float value = loaded.Labels[0] == "a" ? 0.25f : 0.75f;
                Assert.Contains(loaded.Labels[0], new[] { "a", "c" });
                Assert.All(loaded.parameters(), p => Assert.Equal(value, p.max().item<float>()));
                Assert.Equal(loaded.Labels[0] == "a" ? "b" : "d", loaded.Labels[1]);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        Assert.Equal(6, kills);
    }

    private static Process Start(string worker, string dir)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(worker);
        start.ArgumentList.Add(dir);
        start.ArgumentList.Add(TestAssets.UncasedVocabPath);
        return Process.Start(start) ?? throw new InvalidOperationException("could not start the save worker");
    }

    private static void WaitForFirstSave(Process process)
    {
        string? line = process.StandardOutput.ReadLine();
        if (line is null || !line.StartsWith("saved", StringComparison.Ordinal))
        {
            throw new Xunit.Sdk.XunitException($"the save worker did not save: {line} {process.StandardError.ReadToEnd()}");
        }

        _ = process.StandardOutput.ReadToEndAsync(); // keep the pipe drained while it runs
    }
}
