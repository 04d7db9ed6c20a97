using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Hub;

/// <summary>
/// The huggingface_hub cache layout, shared with Python:
/// <code>
/// {cache}/models--{org}--{name}/
///     blobs/{etag}                      the content, named by its sha256 (LFS) or git sha1
///     blobs/{etag}.incomplete           a download in progress (resumed with a Range request)
///     snapshots/{commit}/{file}         relative symlink to ../../blobs/{etag} (a copy where links fail)
///     refs/{revision}                   the commit sha the revision pointed to
/// {cache}/.locks/models--{org}--{name}/{etag}.lock
/// </code>
/// Every path is built from validated names (see <see cref="HubNames"/>) and checked to stay inside the cache.
/// </summary>
internal sealed class HubCache(string root, ILogger logger)
{
    private int _symlinksUnavailable;

    public string Root { get; } = Path.GetFullPath(root);

    public string RepoFolder(string repoId) => Inside(Path.Combine(Root, HubNames.RepoFolderName(repoId)));

    public string BlobPath(string repoId, string etag) => Inside(Path.Combine(RepoFolder(repoId), "blobs", etag));

    public static string IncompletePath(string blobPath) => blobPath + ".incomplete";

    public string LockPath(string repoId, string etag) =>
        Inside(Path.Combine(Root, ".locks", HubNames.RepoFolderName(repoId), etag + ".lock"));

    public string SnapshotFolder(string repoId, string commit) => Inside(Path.Combine(RepoFolder(repoId), "snapshots", commit));

    public string PointerPath(string repoId, string commit, string fileName) =>
        Inside(Path.Combine(SnapshotFolder(repoId, commit), fileName.Replace('/', Path.DirectorySeparatorChar)));

    private string RefPath(string repoId, string revision) =>
        Inside(Path.Combine(RepoFolder(repoId), "refs", revision.Replace('/', Path.DirectorySeparatorChar)));

    /// <summary>The commit a revision resolves to in the cache: the revision itself if it is a commit hash, else <c>refs/{revision}</c>.</summary>
    public string? TryResolveCommit(string repoId, string revision)
    {
        if (HubNames.IsCommitHash(revision))
        {
            return revision;
        }

        string path = RefPath(repoId, revision);
        string content;
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }

            content = File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        if (!HubNames.IsCommitHash(content))
        {
            HubLog.BadRef(logger, repoId, revision);
            return null;
        }

        return content;
    }

    /// <summary>Records which commit a revision points to, atomically (Python writes the bare sha, no newline).</summary>
    public void WriteRef(string repoId, string revision, string commit)
    {
        if (revision == commit || TryResolveCommit(repoId, revision) == commit)
        {
            return;
        }

        string path = RefPath(repoId, revision);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temp = TempNameNextTo(path);
        try
        {
            File.WriteAllText(temp, commit, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            TryDelete(temp);
        }
    }

    /// <summary>
    /// The cached file of a snapshot, or <c>null</c> when it is missing or its symlink is dangling (a blob deleted
    /// by hand). With <paramref name="verify"/>, a blob named by a sha256 or sha1 is re-hashed too.
    /// </summary>
    public string? TryGetCachedFile(string repoId, string commit, string fileName, bool verify)
    {
        string pointer = PointerPath(repoId, commit, fileName);
        var info = new FileInfo(pointer);
        if (!info.Exists)
        {
            return null;
        }

        try
        {
            // File.Exists follows the link: a dangling one counts as missing.
            FileSystemInfo? target = info.LinkTarget is null ? info : info.ResolveLinkTarget(returnFinalTarget: true);
            if (target is null || !target.Exists)
            {
                return null;
            }

            if (verify)
            {
                string etag = Path.GetFileName(target.FullName);
                long length = new FileInfo(target.FullName).Length;
                if (VerifyContent(target.FullName, etag, length, CancellationToken.None) is string problem)
                {
                    HubLog.DamagedBlob(logger, repoId, target.FullName, problem);
                    return null;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return pointer;
    }

    /// <summary>Returns <c>null</c> when the blob exists with the expected size (and, with <paramref name="verify"/>, hash), else why not.</summary>
    public static string? CheckBlob(string blobPath, string etag, long expectedSize, bool verify, CancellationToken ct)
    {
        var info = new FileInfo(blobPath);
        if (!info.Exists)
        {
            return "missing";
        }

        if (info.Length != expectedSize)
        {
            return $"its size is {info.Length} bytes, the Hub announces {expectedSize}";
        }

        return verify ? VerifyContent(blobPath, etag, expectedSize, ct) : null;
    }

    /// <summary>
    /// Checks a file against what its ETag promises: the size, then the sha256 (Hub LFS files, whose ETag is the
    /// sha256) or the git blob sha1 (regular files). Returns <c>null</c> when it matches, else the mismatch.
    /// </summary>
    public static string? VerifyContent(string path, string etag, long expectedSize, CancellationToken ct)
    {
        long length = new FileInfo(path).Length;
        if (length != expectedSize)
        {
            return $"{length} bytes instead of the {expectedSize} announced";
        }

        bool sha256 = HubNames.IsSha256(etag);
        if (!sha256 && !HubNames.IsSha1(etag))
        {
            return null; // Not a content hash (a mirror's own ETag): the size is all that can be checked.
        }

        using var hash = IncrementalHash.CreateHash(sha256 ? HashAlgorithmName.SHA256 : HashAlgorithmName.SHA1);
        if (!sha256)
        {
            hash.AppendData(Encoding.ASCII.GetBytes($"blob {length}\0"));
        }

        byte[] buffer = new byte[1 << 16];
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan))
        {
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                ct.ThrowIfCancellationRequested();
                hash.AppendData(buffer, 0, read);
            }
        }

        string actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        return actual == etag ? null : $"its {(sha256 ? "sha256" : "git sha1")} is {actual}, the Hub announces {etag}";
    }

    /// <summary>
    /// Makes <c>snapshots/{commit}/{file}</c> point at the blob: a relative symlink as Python makes it, or a copy
    /// where links cannot be created. Replaces a wrong or damaged pointer; never leaves a half-made one.
    /// </summary>
    public void EnsurePointer(string blobPath, string pointerPath)
    {
        string blobFull = Path.GetFullPath(blobPath);
        var existing = new FileInfo(pointerPath);
        if (existing.Exists || existing.LinkTarget is not null)
        {
            if (existing.LinkTarget is string link)
            {
                string resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(pointerPath)!, link));
                if (resolved == blobFull)
                {
                    return;
                }
            }
            else if (Volatile.Read(ref _symlinksUnavailable) == 1 && existing.Length == new FileInfo(blobFull).Length)
            {
                return;
            }
        }

        string directory = Path.GetDirectoryName(pointerPath)!;
        Directory.CreateDirectory(directory);
        string temp = TempNameNextTo(pointerPath);
        try
        {
            if (Volatile.Read(ref _symlinksUnavailable) == 0)
            {
                try
                {
                    File.CreateSymbolicLink(temp, Path.GetRelativePath(directory, blobFull));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
                {
                    Volatile.Write(ref _symlinksUnavailable, 1);
                    HubLog.NoSymlinks(logger, directory, e.Message);
                }
            }

            if (Volatile.Read(ref _symlinksUnavailable) == 1)
            {
                TryDelete(temp);
                File.Copy(blobFull, temp, overwrite: true);
            }

            File.Move(temp, pointerPath, overwrite: true);
        }
        finally
        {
            TryDelete(temp);
        }
    }

    public static string TempNameNextTo(string path) =>
        Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");

    public static void TryDelete(string path)
    {
        try
        {
            if (File.Exists(path) || new FileInfo(path).LinkTarget is not null)
            {
                File.Delete(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a temp file left behind is harmless and named so nothing mistakes it for content.
        }
    }

    /// <summary>Defence in depth: every path must stay under the cache root even if validation were bypassed.</summary>
    private string Inside(string path)
    {
        string full = Path.GetFullPath(path);
        string rootWithSeparator = Root.EndsWith(Path.DirectorySeparatorChar) ? Root : Root + Path.DirectorySeparatorChar;
        if (!full.StartsWith(rootWithSeparator, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Refusing to use '{full}': it is outside the hub cache '{Root}'.");
        }

        return full;
    }
}
