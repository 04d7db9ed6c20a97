namespace Bert.Sharp.Training;

/// <summary>
/// Writes a whole folder so that nobody ever sees it half-written: the files go into a hidden temporary sibling,
/// which is renamed into place when complete. An existing folder of the same name is replaced (renamed aside first,
/// deleted after), so at every instant the target is either the old complete folder, absent, or the new complete one.
/// </summary>
internal static class AtomicDirectory
{
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
                Directory.Move(target, old);
                Directory.Move(temp, target);
                TryDelete(old);
            }
            else
            {
                Directory.Move(temp, target);
            }
        }
        finally
        {
            TryDelete(temp);
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
            // Best effort: a stray hidden folder is harmless.
        }
    }
}
