using System.Diagnostics;
using System.Globalization;

namespace Bert.Sharp.Tests.TestSupport;

/// <summary>
/// One temp folder per test process (<c>bert-sharp-tests/run-&lt;pid&gt;</c>) under which every test writes its files. It
/// is deleted when the test host exits, and folders of earlier runs whose process is gone are deleted when the first test
/// asks for it: a CI machine's small /tmp must not fill with saved models, checkpoints and exports, run after run.
/// </summary>
internal static class TestTemp
{
    private const string RunPrefix = "run-";
    private static readonly string Parent = Path.Combine(Path.GetTempPath(), "bert-sharp-tests");
    private static readonly Lazy<string> RootLazy = new(CreateRoot);

    /// <summary>This process's temp folder (created on first use).</summary>
    public static string Root => RootLazy.Value;

    /// <summary>A fresh empty directory under <see cref="Root"/>; deleted with it at the latest when the test host exits.</summary>
    public static string NewDirectory(string prefix)
    {
        string dir = Path.Combine(Root, $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A path under <see cref="Root"/> for a file that does not exist yet.</summary>
    public static string NewFilePath(string prefix, string extension) => Path.Combine(Root, $"{prefix}-{Guid.NewGuid():N}{extension}");

    /// <summary>Deletes a test's folder now (best effort: a file still mapped by a live tensor is left for the exit sweep).</summary>
    public static void TryDelete(string directory)
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
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string CreateRoot()
    {
        Directory.CreateDirectory(Parent);
        DeleteFoldersOfFinishedRuns();
        string root = Path.Combine(Parent, RunPrefix + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        TryDelete(root); // a folder left by an earlier process that had the same id
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(root);
        return root;
    }

    private static void DeleteFoldersOfFinishedRuns()
    {
        foreach (string folder in Directory.EnumerateDirectories(Parent))
        {
            string name = Path.GetFileName(folder);
            bool belongsToLiveRun = name.StartsWith(RunPrefix, StringComparison.Ordinal)
                && int.TryParse(name.AsSpan(RunPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                && IsRunning(pid);
            if (!belongsToLiveRun)
            {
                TryDelete(folder); // a finished run's folder, or one left by test code from before run folders existed
            }
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using Process process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
