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
/// Beside Python's folders, <c>models--{org}--{name}/.bert-sharp/verified/{etag}</c> records which blobs this library
/// verified (see <see cref="VerifiedBlobs"/>).
/// </summary>
internal sealed class HubCache(string root, ILogger logger)
{
    private readonly VerifiedBlobs _verified = new(logger);
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
    /// The cached file of a snapshot, or <c>null</c> when it is missing, its symlink is dangling (a blob deleted by
    /// hand) or its blob fails <see cref="CheckBlob"/> (then <paramref name="damage"/> says why).
    /// </summary>
    public string? TryGetCachedFile(string repoId, string commit, string fileName, bool rehashUnverified, out string? damage)
    {
        damage = null;
        string pointer = PointerPath(repoId, commit, fileName);
        var info = new FileInfo(pointer);
        if (!info.Exists)
        {
            return null;
        }

        try
        {
            if (info.LinkTarget is null)
            {
                return pointer; // A copy (no symlinks on this file system): nothing names its content, existence is all we know.
            }

            // The first hop is blobs/{etag} (which may itself link on, to a shared store); FileInfo.Exists follows every
            // hop, so a dangling link counts as missing.
            if (info.ResolveLinkTarget(returnFinalTarget: false) is not FileInfo { Exists: true } blob)
            {
                return null;
            }

            string etag = blob.Name;
            if (Path.GetDirectoryName(blob.FullName) != Path.Combine(RepoFolder(repoId), "blobs") || !HubNames.IsSafeEtag(etag))
            {
                damage = $"the cached '{fileName}' links to '{blob.FullName}', which is not one of the repository's blobs";
                return null;
            }

            string? problem = CheckBlob(repoId, blob.FullName, etag, announcedSize: null, rehashUnverified, CancellationToken.None);
            if (problem is not null)
            {
                HubLog.DamagedBlob(logger, repoId, blob.FullName, problem);
                damage = $"the cached '{fileName}' is damaged: {problem}";
                return null;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return pointer;
    }

    /// <summary>
    /// Whether a cached blob may be used; <c>null</c> when it may, else why not. The rule, cheapest check first:
    /// <list type="number">
    /// <item>it must exist, with the size the Hub announces (when online, <paramref name="announcedSize"/>);</item>
    /// <item>a blob this library verified (it has a record) must still have the recorded size and last-write time; if
    /// only the time changed it is re-hashed (a blob not named by a hash cannot be, and is refused);</item>
    /// <item>a blob without a record (written by Python) is re-hashed only with <paramref name="rehashUnverified"/>.</item>
    /// </list>
    /// A blob that passes a re-hash is recorded as verified.
    /// </summary>
    public string? CheckBlob(string repoId, string blobPath, string etag, long? announcedSize, bool rehashUnverified, CancellationToken ct)
    {
        var blob = new FileInfo(blobPath);
        if (!blob.Exists)
        {
            return "missing";
        }

        if (announcedSize is long size && blob.Length != size)
        {
            return $"its size is {blob.Length:N0} bytes, the Hub announces {size:N0}";
        }

        string recordPath = VerifiedRecordPath(repoId, etag);
        VerifiedBlobs.Record? record = VerifiedBlobs.TryRead(recordPath);
        if (record is not null)
        {
            if (record.Matches(blob))
            {
                return null;
            }

            if (blob.Length != record.Size)
            {
                return $"its size is {blob.Length:N0} bytes, {record.Size:N0} were verified when it was cached";
            }

            if (!HubNames.IsSha256(etag) && !HubNames.IsSha1(etag))
            {
                return "it was rewritten after it was verified, and its name is not a content hash to check it against";
            }
        }
        else if (!rehashUnverified)
        {
            return null;
        }

        string? mismatch = VerifyContent(blobPath, etag, blob.Length, ct);
        if (mismatch is null)
        {
            _verified.Write(recordPath, blobPath, etag);
        }

        return mismatch;
    }

    /// <summary>Records that a blob just moved into the cache was verified.</summary>
    public void RecordVerified(string repoId, string blobPath, string etag) => _verified.Write(VerifiedRecordPath(repoId, etag), blobPath, etag);

    private string VerifiedRecordPath(string repoId, string etag) => Inside(VerifiedBlobs.RecordPath(RepoFolder(repoId), etag));

    /// <summary>
    /// The path inside the repository that collides with <paramref name="fileName"/> in a snapshot — a file where one of
    /// its folders should be, or a folder where it should be — or <c>null</c>.
    /// </summary>
    public string? FindConflict(string repoId, string commit, string fileName)
    {
        string snapshot = SnapshotFolder(repoId, commit);
        for (int slash = fileName.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = fileName.IndexOf('/', slash + 1))
        {
            string folder = fileName[..slash];
            var existing = new FileInfo(Path.Combine(snapshot, folder.Replace('/', Path.DirectorySeparatorChar)));
            if (existing.Exists || existing.LinkTarget is not null)
            {
                return folder;
            }
        }

        string path = PointerPath(repoId, commit, fileName);
        if (!Directory.Exists(path) || new DirectoryInfo(path).LinkTarget is not null)
        {
            return null;
        }

        string? inside = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).FirstOrDefault();
        return inside is null ? fileName + "/" : Path.GetRelativePath(snapshot, inside).Replace(Path.DirectorySeparatorChar, '/');
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
        return actual == etag ? null : $"its {(sha256 ? "sha256" : "git sha1")} is {actual} instead of {etag}";
    }

    /// <summary>
    /// Makes <c>snapshots/{commit}/{file}</c> point at the blob: a relative symlink as Python makes it, or a copy
    /// where links cannot be created. Replaces a wrong or damaged pointer; never leaves a half-made one.
    /// </summary>
    /// <exception cref="HubException">The snapshot has a file where a folder of <paramref name="fileName"/> belongs, or the reverse.</exception>
    public string EnsurePointer(string repoId, string commit, string fileName, string blobPath)
    {
        if (FindConflict(repoId, commit, fileName) is string other)
        {
            throw Conflict(repoId, commit, fileName, other);
        }

        string pointerPath = PointerPath(repoId, commit, fileName);
        string blobFull = Path.GetFullPath(blobPath);
        var existing = new FileInfo(pointerPath);
        if (existing.Exists || existing.LinkTarget is not null)
        {
            if (existing.LinkTarget is string link)
            {
                string resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(pointerPath)!, link));
                if (resolved == blobFull)
                {
                    return pointerPath;
                }
            }
            else if (Volatile.Read(ref _symlinksUnavailable) == 1 && existing.Length == new FileInfo(blobFull).Length)
            {
                return pointerPath;
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

        return pointerPath;
    }

    /// <summary>The error for two paths of a snapshot that cannot both exist: a file <c>x</c> and a file <c>x/y</c>.</summary>
    public static HubException Conflict(string repoId, string commit, string fileName, string other) =>
        new(HubErrorKind.Protocol,
            $"'{repoId}' at commit {commit} has both '{fileName}' and '{other}': a file and a folder of the same name cannot both exist in " +
            "a snapshot folder. Nothing more was written; the repository (or the server's answer) is inconsistent.",
            repoId, fileName);

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
            throw new HubException(HubErrorKind.Protocol, $"Refusing to use '{full}': it is outside the hub cache '{Root}'.", repoId: null);
        }

        return full;
    }
}
