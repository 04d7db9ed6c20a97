namespace Bert.Sharp.Training;

/// <summary>
/// Writes a whole folder that the trainer owns (a <c>checkpoint-N</c>) so that nobody ever sees it half-written: the files go
/// into a hidden temporary sibling, which is renamed into place when complete. An existing folder of the same name is
/// renamed aside first and deleted after; if the second rename fails it is put back, and a crash between the two renames is
/// repaired by the next write or cleanup. Model folders the user names are never written this way (see ModelFolderWriter).
/// </summary>
internal static class AtomicDirectory
{
    /// <summary>Test hook: called before each rename (<c>aside</c>, <c>into-place</c>); throwing simulates a failure there.</summary>
    internal static Action<string>? FaultInjection { get; set; }

    public static void Write(string directory, Action<string> writeInto)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(writeInto);
        string target = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        string parent = Path.GetDirectoryName(target) ?? throw new ArgumentException($"'{directory}' has no parent folder.", nameof(directory));
        string name = Path.GetFileName(target);
        string temp = Path.Combine(parent, $".{name}.tmp-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(parent);
            RestoreAside(parent, name);
            Directory.CreateDirectory(temp);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new UnauthorizedAccessException($"Cannot write into '{parent}': {e.Message}", e);
        }

        try
        {
            writeInto(temp);
            if (Directory.Exists(target))
            {
                string old = Path.Combine(parent, $".{name}.old-{Guid.NewGuid():N}");
                FaultInjection?.Invoke("aside");
                Directory.Move(target, old);
                try
                {
                    FaultInjection?.Invoke("into-place");
                    Directory.Move(temp, target);
                }
                catch
                {
                    Directory.Move(old, target); // the previous folder comes back
                    throw;
                }

                TryDelete(old);
            }
            else
            {
                FaultInjection?.Invoke("into-place");
                Directory.Move(temp, target);
            }
        }
        finally
        {
            TryDelete(temp);
        }
    }

    /// <summary>
    /// Removes what crashed writes left in <paramref name="parent"/>: temporary folders (<c>.X.tmp-*</c>), and folders set
    /// aside (<c>.X.old-*</c>) — put back when their target is missing (the crash fell between the two renames), else deleted.
    /// </summary>
    public static void CleanUp(string parent)
    {
        if (!Directory.Exists(parent))
        {
            return;
        }

        foreach (string temp in Directory.EnumerateDirectories(parent, ".*.tmp-*"))
        {
            TryDelete(temp);
        }

        foreach (string old in Directory.EnumerateDirectories(parent, ".*.old-*"))
        {
            string file = Path.GetFileName(old);
            int cut = file.LastIndexOf(".old-", StringComparison.Ordinal);
            RestoreAside(parent, file[1..cut]);
        }
    }

    /// <summary>Fails early, with a clear message, when <paramref name="directory"/> cannot be created or written.</summary>
    public static void RequireWritable(string directory, string what)
    {
        string probe = Path.Combine(directory, $".write-probe-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(directory);
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new UnauthorizedAccessException($"The {what} '{directory}' is not writable: {e.Message}", e);
        }
    }

    public static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a stray hidden folder is removed by the next CleanUp.
        }
    }

    // A folder set aside whose target is missing is the only complete copy: it goes back. Otherwise it is garbage.
    private static void RestoreAside(string parent, string name)
    {
        foreach (string old in Directory.EnumerateDirectories(parent, $".{name}.old-*").Order(StringComparer.Ordinal))
        {
            string target = Path.Combine(parent, name);
            if (!Directory.Exists(target))
            {
                Directory.Move(old, target);
            }
            else
            {
                TryDelete(old);
            }
        }
    }
}
