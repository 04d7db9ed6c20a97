using System.Text;
using System.Text.Json;

namespace Bert.Sharp.IO;

/// <summary>
/// Writes a model's files into a folder as one unit, with Hugging Face's <c>save_pretrained</c> semantics: only the files
/// written here (and stale files of ours that they supersede) change; anything else in the folder is left alone. The
/// previous model stays complete and loadable until the new one is complete:
/// <list type="number">
/// <item>every new file is written to a temporary file next to its target and flushed to disk;</item>
/// <item>a journal listing the renames (and deletions) to come is written atomically — from here on the new model is complete;</item>
/// <item>each temporary file is renamed over its target, stale files are deleted, the journal is removed.</item>
/// </list>
/// A crash before step 2 leaves the old model intact (plus temporary files, removed by the next save); a crash after it is
/// finished by <see cref="Recover"/>, which every load and save runs first.
/// </summary>
internal sealed class ModelFolderWriter
{
    /// <summary>The journal of a commit in progress.</summary>
    public const string JournalName = ".bert-sharp-save.json";

    private const string TempSuffix = ".bert-sharp-tmp";
    private const string LockName = ".bert-sharp-save.lock";

    private readonly string directory;
    private readonly List<(string Name, Action<Stream> Write)> files = [];
    private readonly List<string> stale = [];

    public ModelFolderWriter(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        this.directory = Path.GetFullPath(directory);
    }

    /// <summary>Test hook: called before each step (<c>write:NAME</c>, <c>journal</c>, <c>rename:NAME</c>, <c>delete:NAME</c>); throwing simulates a failure there.</summary>
    internal static Action<string>? FaultInjection { get; set; }

    /// <summary>The names added so far (relative to the folder, '/'-separated).</summary>
    public IEnumerable<string> FileNames => files.Select(f => f.Name);

    /// <summary>Adds a file (a name relative to the folder; '/' separates subfolders) written by <paramref name="write"/>.</summary>
    public ModelFolderWriter Add(string name, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string normal = Normalize(name);
        files.RemoveAll(f => f.Name == normal);
        files.Add((normal, write));
        return this;
    }

    /// <summary>Adds a UTF-8 text file (no BOM).</summary>
    public ModelFolderWriter AddText(string name, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        byte[] bytes = new UTF8Encoding(false).GetBytes(text);
        return Add(name, stream => stream.Write(bytes));
    }

    /// <summary>Deletes <paramref name="name"/> on commit, when it exists and is not written by this commit: a file of ours the new ones supersede.</summary>
    public ModelFolderWriter RemoveIfPresent(string name)
    {
        stale.Add(Normalize(name));
        return this;
    }

    /// <summary>Writes everything as described in the class remarks.</summary>
    /// <exception cref="UnauthorizedAccessException">The folder or a file cannot be written; the message names it.</exception>
    /// <exception cref="IOException">A write or rename failed; the folder still holds the previous model (or, after the journal, the new one once recovered).</exception>
    public void Commit()
    {
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new UnauthorizedAccessException($"Cannot create the model folder '{directory}': {e.Message}", e);
        }

        using FileStream gate = Lock(directory);
        Recover(directory);
        RemoveStrayTemporaries(directory, files.Select(f => Path.GetDirectoryName(Target(f.Name))!));

        var renames = new List<Journal.Entry>();
        try
        {
            foreach ((string name, Action<Stream> write) in files)
            {
                string target = Target(name);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                string temp = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}{TempSuffix}");
                renames.Add(new Journal.Entry(Relative(temp), name));
                FaultInjection?.Invoke($"write:{name}");
                using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
                write(stream);
                stream.Flush(flushToDisk: true);
            }
        }
        catch (Exception e)
        {
            foreach (Journal.Entry entry in renames)
            {
                TryDeleteFile(Path.Combine(directory, entry.Temp));
            }

            if (e is UnauthorizedAccessException access)
            {
                throw new UnauthorizedAccessException($"Cannot write into the model folder '{directory}': {access.Message}", access);
            }

            throw;
        }

        string[] written = [.. files.Select(f => f.Name)];
        var journal = new Journal(renames, [.. stale.Where(s => !written.Contains(s, StringComparer.Ordinal))]);
        try
        {
            FaultInjection?.Invoke("journal");
            AtomicFile.WriteAllText(Path.Combine(directory, JournalName), JsonSerializer.Serialize(journal, Journal.Options));
        }
        catch
        {
            foreach (Journal.Entry entry in renames)
            {
                TryDeleteFile(Path.Combine(directory, entry.Temp));
            }

            throw;
        }

        RollForward(directory, journal);
    }

    /// <summary>
    /// Finishes a commit that was interrupted after its journal was written (renames its complete temporary files into place,
    /// deletes what it meant to delete). Does nothing when no journal is there.
    /// </summary>
    /// <exception cref="InvalidDataException">A journal is there but cannot be finished (read-only folder, damaged journal); the message names the folder.</exception>
    public static void Recover(string directory)
    {
        string path = Path.Combine(directory, JournalName);
        if (!File.Exists(path))
        {
            return;
        }

        Journal? journal;
        try
        {
            journal = JsonSerializer.Deserialize<Journal>(File.ReadAllText(path), Journal.Options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The model folder '{directory}' holds a damaged save journal ({JournalName}): {e.Message}. Delete it and save the model again.", e);
        }

        if (journal?.Renames is null || journal.Deletes is null)
        {
            throw new InvalidDataException($"The model folder '{directory}' holds an empty save journal ({JournalName}); delete it and save the model again.");
        }

        try
        {
            RollForward(directory, journal);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new InvalidDataException($"The model folder '{directory}' holds a save that was interrupted after it was complete, and finishing it failed: {e.Message}. Make the folder writable and load it again.", e);
        }
    }

    private static void RollForward(string directory, Journal journal)
    {
        foreach (Journal.Entry entry in journal.Renames)
        {
            string temp = Path.Combine(directory, CheckRelative(entry.Temp, directory));
            string target = Path.Combine(directory, CheckRelative(entry.Target, directory));
            if (File.Exists(temp))
            {
                FaultInjection?.Invoke($"rename:{entry.Target}");
                File.Move(temp, target, overwrite: true);
            }
        }

        foreach (string name in journal.Deletes)
        {
            FaultInjection?.Invoke($"delete:{name}");
            TryDeleteFile(Path.Combine(directory, CheckRelative(name, directory)));
        }

        File.Delete(Path.Combine(directory, JournalName));
    }

    // Temporary files of saves that died before their journal: the old model is intact and they are garbage. Only the
    // folders this save writes into are looked at (the model folder may be the user's working directory).
    private static void RemoveStrayTemporaries(string directory, IEnumerable<string> folders)
    {
        foreach (string folder in folders.Append(directory).Distinct(StringComparer.Ordinal).Where(Directory.Exists))
        {
            foreach (string temp in Directory.EnumerateFiles(folder, ".*" + TempSuffix, SearchOption.TopDirectoryOnly))
            {
                TryDeleteFile(temp);
            }
        }
    }

    private static FileStream Lock(string directory)
    {
        string path = Path.Combine(directory, LockName);
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (attempt < 600)
            {
                Thread.Sleep(100); // another process is saving into the same folder
            }
        }
    }

    private static void TryDeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a stale file left behind is reported by nobody and harms nothing we load.
        }
    }

    private string Target(string name) => Path.Combine(directory, name.Replace('/', Path.DirectorySeparatorChar));

    private string Relative(string path) => Path.GetRelativePath(directory, path).Replace(Path.DirectorySeparatorChar, '/');

    private static string Normalize(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        string normal = name.Replace('\\', '/');
        if (Path.IsPathRooted(normal) || normal.Split('/').Any(part => part is "" or "." or ".."))
        {
            throw new ArgumentException($"'{name}' is not a plain file name inside the model folder.", nameof(name));
        }

        return normal;
    }

    private static string CheckRelative(string name, string directory)
    {
        try
        {
            return Normalize(name).Replace('/', Path.DirectorySeparatorChar);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"The save journal of '{directory}' names '{name}', which is outside the folder.", e);
        }
    }

    /// <summary>The journal file: the renames to finish and the stale files to delete.</summary>
    private sealed record Journal(IReadOnlyList<Journal.Entry> Renames, IReadOnlyList<string> Deletes)
    {
        public static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

        public sealed record Entry(string Temp, string Target);
    }
}
