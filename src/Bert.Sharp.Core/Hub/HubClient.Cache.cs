using Bert.Sharp.Hub;

namespace Bert.Sharp;

/// <summary>Serving from the cache alone: offline, pinned commits already cached, and the fallback when the Hub is unreachable.</summary>
public sealed partial class HubClient
{
    /// <summary>The cached file of a revision, or <c>null</c> (never throws, never re-hashes more than <see cref="HubCache.CheckBlob"/> says).</summary>
    private string? TryCachedFile(string repoId, string revision, string fileName) =>
        _cache.TryResolveCommit(repoId, revision) is string commit
            ? _cache.TryGetCachedFile(repoId, commit, fileName, _options.VerifyCachedFiles, out _)
            : null;

    /// <summary>The files of a cached snapshot that satisfy the selection, or <c>null</c>; <paramref name="damage"/> collects damaged files met.</summary>
    private IReadOnlyList<string>? TryCachedSelection(string repoId, string commit, FileSelection selection, List<string>? damage)
    {
        string folder = _cache.SnapshotFolder(repoId, commit);
        if (!Directory.Exists(folder))
        {
            return null;
        }

        bool IsCached(string name)
        {
            bool cached = _cache.TryGetCachedFile(repoId, commit, name, _options.VerifyCachedFiles, out string? problem) is not null;
            if (problem is not null && damage is not null && !damage.Contains(problem))
            {
                damage.Add(problem);
            }

            return cached;
        }

        return selection.SelectCached(IsCached, ListSnapshot(folder));
    }

    private string? TryCachedSnapshot(string repoId, string revision, FileSelection selection) =>
        _cache.TryResolveCommit(repoId, revision) is string commit && TryCachedSelection(repoId, commit, selection, null) is not null
            ? _cache.SnapshotFolder(repoId, commit)
            : null;

    private bool IsCachedSnapshotComplete(string repoId, string commit, FileSelection selection) =>
        selection.IsExplicit && TryCachedSelection(repoId, commit, selection, null) is not null;

    private string CachedFileOrThrow(string repoId, string revision, string fileName, IProgress<HubDownloadProgress>? progress,
        TransientHubException? reason)
    {
        string? commit = _cache.TryResolveCommit(repoId, revision);
        string? damage = null;
        string? path = commit is null ? null : _cache.TryGetCachedFile(repoId, commit, fileName, _options.VerifyCachedFiles, out damage);
        if (path is null)
        {
            throw NotCached(repoId, revision, [fileName], reason, damage is null ? [] : [damage]);
        }

        if (reason is not null)
        {
            HubLog.UsingCacheWhileUnreachable(_logger, repoId, reason.Message, commit!);
        }

        ReportCached(repoId, fileName, path, progress);
        return path;
    }

    private string CachedSnapshotOrThrow(string repoId, string revision, FileSelection selection,
        IProgress<HubDownloadProgress>? progress, TransientHubException? reason)
    {
        string? commit = _cache.TryResolveCommit(repoId, revision);
        var damage = new List<string>();
        IReadOnlyList<string>? present = commit is null ? null : TryCachedSelection(repoId, commit, selection, damage);
        if (present is null)
        {
            throw NotCached(repoId, revision, selection.Describe(), reason, damage);
        }

        if (reason is not null)
        {
            HubLog.UsingCacheWhileUnreachable(_logger, repoId, reason.Message, commit!);
        }

        foreach (string name in present)
        {
            ReportCached(repoId, name, _cache.PointerPath(repoId, commit!, name), progress);
        }

        return _cache.SnapshotFolder(repoId, commit!);
    }

    private static List<string> ListSnapshot(string folder)
    {
        var files = new List<string>();
        foreach (string path in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            string name = Path.GetRelativePath(folder, path).Replace(Path.DirectorySeparatorChar, '/');
            if (!Path.GetFileName(name).StartsWith('.') && HubNames.CheckFileName(name) is null)
            {
                files.Add(name);
            }
        }

        return files;
    }

    private HubException NotCached(string repoId, string revision, IReadOnlyList<string> files, TransientHubException? reason,
        List<string> damage)
    {
        string what = string.Join(", ", files);
        string why = reason is null
            ? "offline mode is on (HF_HUB_OFFLINE or HubClientOptions.Offline)"
            : $"the Hub at {_settings.Endpoint} could not be reached ({reason.Message})";
        string damaged = damage.Count == 0 ? "" : $" In the cache, {string.Join("; ", damage)}; a damaged file is never used.";
        return new HubException(HubErrorKind.OfflineNotCached,
            $"Cannot get '{repoId}' (revision '{revision}'): {why}, and {what} {(what.Contains(',', StringComparison.Ordinal) ? "are" : "is")} not in the cache " +
            $"'{_cache.Root}'.{damaged} Download the model once while online (with Bert.Sharp or Python's huggingface_hub, same cache), " +
            "or pass a local directory.",
            repoId, files.Count == 1 ? files[0] : null, reason?.Url, innerException: reason?.InnerException);
    }

    private void ReportCached(string repoId, string fileName, string path, IProgress<HubDownloadProgress>? progress)
    {
        HubLog.CacheHit(_logger, repoId, fileName, path);
        if (progress is not null)
        {
            var info = new FileInfo(path);
            long length = info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target ? target.Length : info.Length;
            progress.Report(new HubDownloadProgress(fileName, length, length));
        }
    }
}
