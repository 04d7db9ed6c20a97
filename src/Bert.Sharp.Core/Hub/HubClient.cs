using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Bert.Sharp.Hub;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bert.Sharp;

/// <summary>
/// Downloads model files from the Hugging Face Hub into the cache Python's <c>huggingface_hub</c> uses, so a
/// model fetched by either is found by the other, and works offline once cached. Prefer this asynchronous client
/// in applications; <see cref="PretrainedResolver"/> wraps it for the synchronous <c>FromPretrained</c> methods.
/// </summary>
/// <remarks>
/// Every file is checked against the size and hash the Hub announces before it is moved into the cache in one
/// atomic rename; a broken transfer is resumed with a Range request; two clients or processes downloading the same
/// file take turns on a lock file, and the second finds the first one's result. A client is thread-safe; dispose it
/// to release its HTTP connections.
/// </remarks>
public sealed class HubClient : IDisposable
{
    private const int CopyBufferSize = 1 << 16;
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(100);

    private readonly HubSettings _settings;
    private readonly HubClientOptions _options;
    private readonly HubCache _cache;
    private readonly HttpClient _http;
    private readonly ILogger _logger;

    /// <summary>Creates a client; <c>null</c> options read everything from the environment, as Python does.</summary>
    /// <param name="options">Endpoint, token, cache folder, offline mode, limits, logger.</param>
    /// <exception cref="ArgumentException">The endpoint is not an absolute http(s) URL, or a limit is out of range.</exception>
    public HubClient(HubClientOptions? options = null)
    {
        _options = options ?? new HubClientOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(_options.MaxRetries, nameof(options));
        if (_options.RequestTimeout <= TimeSpan.Zero || _options.LockTimeout < TimeSpan.Zero)
        {
            throw new ArgumentException("RequestTimeout must be positive and LockTimeout not negative.", nameof(options));
        }

        _settings = HubSettings.Resolve(_options);
        _logger = _options.Logger ?? NullLogger.Instance;
        _cache = new HubCache(_settings.CacheDirectory, _logger);
        HttpMessageHandler handler = _options.HttpHandler ?? new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = _options.RequestTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        _http = new HttpClient(handler, disposeHandler: _options.HttpHandler is null) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("Bert.Sharp", typeof(HubClient).Assembly.GetName().Version?.ToString(3) ?? "0"));
    }

    /// <summary>The Hub address requests go to.</summary>
    public Uri Endpoint => _settings.Endpoint;

    /// <summary>The hub cache folder (holding <c>models--org--name</c> folders).</summary>
    public string CacheDirectory => _cache.Root;

    /// <summary>Whether the client works from the cache only.</summary>
    public bool IsOffline => _settings.Offline;

    /// <summary>
    /// Downloads (or finds in the cache) the files of a model repository and returns its snapshot folder,
    /// <c>{cache}/models--org--name/snapshots/{commit}</c>, which holds them under their repository names.
    /// </summary>
    /// <param name="repoId"><c>name</c> or <c>organization/name</c>, e.g. <c>google-bert/bert-base-uncased</c>.</param>
    /// <param name="revision">Branch, tag or commit; default <c>main</c>.</param>
    /// <param name="fileNames">
    /// File names or <c>*</c>/<c>?</c> patterns to fetch; <c>null</c> fetches every file of the repository (as Python's
    /// <c>snapshot_download</c> does — for a model with several weight formats that is a lot). A name without a
    /// pattern that the repository lacks is an error.
    /// </param>
    /// <param name="progress">Receives per-file progress.</param>
    /// <param name="cancellationToken">Cancels the download; a partial file is kept and resumed next time.</param>
    /// <returns>The snapshot folder.</returns>
    /// <exception cref="ArgumentException">The id, revision or a file name is not valid; nothing was requested.</exception>
    /// <exception cref="HubException">The Hub refused (not found, gated), the transfer failed, or offline and not cached.</exception>
    public Task<string> DownloadModelAsync(string repoId, string? revision = null, IEnumerable<string>? fileNames = null,
        IProgress<HubDownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        HubNames.ValidateRepoId(repoId, nameof(repoId));
        revision = CheckRevision(revision);
        FileSelection selection = FileSelection.FromPatterns(fileNames);
        return DownloadSelectionAsync(repoId, revision, selection, progress, cancellationToken);
    }

    /// <summary>Downloads (or finds in the cache) one file and returns its path in the snapshot folder.</summary>
    /// <param name="repoId"><c>name</c> or <c>organization/name</c>.</param>
    /// <param name="fileName">The file's path inside the repository, e.g. <c>config.json</c> or <c>onnx/model.onnx</c>.</param>
    /// <param name="revision">Branch, tag or commit; default <c>main</c>.</param>
    /// <param name="progress">Receives the file's progress.</param>
    /// <param name="cancellationToken">Cancels the download; a partial file is kept and resumed next time.</param>
    /// <returns>The path of the file, <c>{cache}/models--org--name/snapshots/{commit}/{fileName}</c>.</returns>
    /// <exception cref="ArgumentException">The id, revision or file name is not valid; nothing was requested.</exception>
    /// <exception cref="HubException">The Hub refused (not found, gated), the transfer failed, or offline and not cached.</exception>
    public async Task<string> DownloadFileAsync(string repoId, string fileName, string? revision = null,
        IProgress<HubDownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        HubNames.ValidateRepoId(repoId, nameof(repoId));
        HubNames.ValidateFileName(fileName, nameof(fileName));
        revision = CheckRevision(revision);

        // Offline, or pinned to a commit that is already cached (a commit never changes): no request at all.
        if (_settings.Offline || (HubNames.IsCommitHash(revision) && _cache.TryGetCachedFile(repoId, revision, fileName, _options.VerifyCachedFiles) is not null))
        {
            return CachedFileOrThrow(repoId, revision, fileName, progress, reason: null);
        }

        FileMetadata metadata;
        try
        {
            metadata = await HeadAsync(repoId, revision, fileName, cancellationToken).ConfigureAwait(false);
        }
        catch (TransientNetworkException e)
        {
            return CachedFileOrThrow(repoId, revision, fileName, progress, e);
        }

        string path = await EnsureFileAsync(repoId, fileName, metadata, progress, cancellationToken).ConfigureAwait(false);
        _cache.WriteRef(repoId, revision, metadata.Commit);
        return path;
    }

    /// <summary>Lists the files of a repository at a revision (the Hub's <c>siblings</c>), with the commit they belong to.</summary>
    /// <param name="repoId"><c>name</c> or <c>organization/name</c>.</param>
    /// <param name="revision">Branch, tag or commit; default <c>main</c>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The commit the revision points to and the repository's files at it (unsafe names left out).</returns>
    /// <exception cref="HubException">Offline, unreachable, not found or gated.</exception>
    public async Task<HubRepositoryFiles> ListFilesAsync(string repoId, string? revision = null,
        CancellationToken cancellationToken = default)
    {
        HubNames.ValidateRepoId(repoId, nameof(repoId));
        revision = CheckRevision(revision);
        if (_settings.Offline)
        {
            throw new HubException(HubErrorKind.OfflineNotCached,
                $"Cannot list the files of '{repoId}': offline mode (HF_HUB_OFFLINE) is on.", repoId);
        }

        try
        {
            (string commit, IReadOnlyList<string> files) = await GetModelInfoAsync(repoId, revision, cancellationToken).ConfigureAwait(false);
            return new HubRepositoryFiles(repoId, commit, files);
        }
        catch (TransientNetworkException e)
        {
            throw Unreachable(repoId, null, e);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    internal async Task<string> DownloadSelectionAsync(string repoId, string revision, FileSelection selection,
        IProgress<HubDownloadProgress>? progress, CancellationToken ct)
    {
        if (_settings.Offline || (HubNames.IsCommitHash(revision) && IsCachedSnapshotComplete(repoId, revision, selection)))
        {
            return CachedSnapshotOrThrow(repoId, revision, selection, progress, reason: null);
        }

        (string Commit, IReadOnlyList<string> Files) info;
        try
        {
            info = await GetModelInfoAsync(repoId, revision, ct).ConfigureAwait(false);
        }
        catch (TransientNetworkException e)
        {
            return CachedSnapshotOrThrow(repoId, revision, selection, progress, e);
        }

        IReadOnlyList<string> wanted = selection.Select(repoId, revision, info.Files);
        foreach (string fileName in wanted)
        {
            FileMetadata metadata = await HeadWithRetriesAsync(repoId, info.Commit, fileName, ct).ConfigureAwait(false);

            await EnsureFileAsync(repoId, fileName, metadata with { Commit = info.Commit }, progress, ct).ConfigureAwait(false);
        }

        _cache.WriteRef(repoId, revision, info.Commit);
        string snapshot = _cache.SnapshotFolder(repoId, info.Commit);
        Directory.CreateDirectory(snapshot);
        return snapshot;
    }

    /// <summary>A HEAD in the middle of a download: the Hub was reachable a moment ago, so a failure is retried, not a reason to fall back.</summary>
    private async Task<FileMetadata> HeadWithRetriesAsync(string repoId, string revision, string fileName, CancellationToken ct)
    {
        for (int failures = 0; ; failures++)
        {
            try
            {
                return await HeadAsync(repoId, revision, fileName, ct).ConfigureAwait(false);
            }
            catch (TransientNetworkException e) when (failures < _options.MaxRetries)
            {
                HubLog.Retrying(_logger, repoId, fileName, failures + 1, _options.MaxRetries + 1, e.Message);
                await Task.Delay(_options.RetryDelay * Math.Pow(2, Math.Min(failures, 6)), ct).ConfigureAwait(false);
            }
            catch (TransientNetworkException e)
            {
                throw new HubException(HubErrorKind.Network,
                    $"Could not resolve '{fileName}' of '{repoId}' at {e.Url} after {failures + 1} attempts: {e.Message}",
                    repoId, fileName, e.Url, e.StatusCode, e.InnerException);
            }
        }
    }

    private bool IsCachedSnapshotComplete(string repoId, string commit, FileSelection selection)
    {
        string folder = _cache.SnapshotFolder(repoId, commit);
        return selection.IsExplicit && Directory.Exists(folder) &&
            selection.SelectCached(name => _cache.TryGetCachedFile(repoId, commit, name, _options.VerifyCachedFiles) is not null, ListSnapshot(folder))
                is not null;
    }

    private static string CheckRevision(string? revision)
    {
        revision ??= HubNames.DefaultRevision;
        HubNames.ValidateRevision(revision, nameof(revision));
        return revision;
    }

    // ---------------------------------------------------------------- cache only

    private string CachedFileOrThrow(string repoId, string revision, string fileName, IProgress<HubDownloadProgress>? progress,
        TransientNetworkException? reason)
    {
        string? commit = _cache.TryResolveCommit(repoId, revision);
        string? path = commit is null ? null : _cache.TryGetCachedFile(repoId, commit, fileName, _options.VerifyCachedFiles);
        if (path is null)
        {
            throw NotCached(repoId, revision, [fileName], reason);
        }

        if (reason is not null)
        {
            HubLog.UsingCacheWhileUnreachable(_logger, repoId, reason.Message, commit!);
        }

        ReportCached(repoId, fileName, path, progress);
        return path;
    }

    private string CachedSnapshotOrThrow(string repoId, string revision, FileSelection selection,
        IProgress<HubDownloadProgress>? progress, TransientNetworkException? reason)
    {
        string? commit = _cache.TryResolveCommit(repoId, revision);
        IReadOnlyList<string>? present = null;
        if (commit is not null && Directory.Exists(_cache.SnapshotFolder(repoId, commit)))
        {
            present = selection.SelectCached(name => _cache.TryGetCachedFile(repoId, commit, name, _options.VerifyCachedFiles) is not null,
                ListSnapshot(_cache.SnapshotFolder(repoId, commit)));
        }

        if (present is null)
        {
            throw NotCached(repoId, revision, selection.Describe(), reason);
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

    private HubException NotCached(string repoId, string revision, IReadOnlyList<string> files, TransientNetworkException? reason)
    {
        string what = string.Join(", ", files);
        string why = reason is null
            ? "offline mode is on (HF_HUB_OFFLINE or HubClientOptions.Offline)"
            : $"the Hub at {_settings.Endpoint} could not be reached ({reason.Message})";
        return new HubException(HubErrorKind.OfflineNotCached,
            $"Cannot get '{repoId}' (revision '{revision}'): {why}, and {what} {(what.Contains(',', StringComparison.Ordinal) ? "are" : "is")} not in the cache " +
            $"'{_cache.Root}'. Download the model once while online (with Bert.Sharp or Python's huggingface_hub, same cache), " +
            "or pass a local directory.",
            repoId, files.Count == 1 ? files[0] : null, reason?.Url, innerException: reason?.InnerException);
    }

    private HubException Unreachable(string repoId, string? fileName, TransientNetworkException e) =>
        new(HubErrorKind.Network, $"Could not reach the Hub at {_settings.Endpoint} for '{repoId}': {e.Message}",
            repoId, fileName, e.Url, innerException: e.InnerException);

    private void ReportCached(string repoId, string fileName, string path, IProgress<HubDownloadProgress>? progress)
    {
        HubLog.CacheHit(_logger, repoId, fileName, path);
        if (progress is not null)
        {
            long length = new FileInfo(path).Length;
            if (new FileInfo(path).LinkTarget is not null)
            {
                length = new FileInfo(Path.GetFullPath(path)).ResolveLinkTarget(true) is FileInfo target ? target.Length : length;
            }

            progress.Report(new HubDownloadProgress(fileName, length, length));
        }
    }

    // ---------------------------------------------------------------- download

    private async Task<string> EnsureFileAsync(string repoId, string fileName, FileMetadata metadata,
        IProgress<HubDownloadProgress>? progress, CancellationToken ct)
    {
        string blob = _cache.BlobPath(repoId, metadata.Etag);
        string pointer = _cache.PointerPath(repoId, metadata.Commit, fileName);

        if (HubCache.CheckBlob(blob, metadata.Etag, metadata.Size, _options.VerifyCachedFiles, ct) is null)
        {
            _cache.EnsurePointer(blob, pointer);
            ReportCached(repoId, fileName, pointer, progress);
            return pointer;
        }

        using (await BlobLock.AcquireAsync(_cache.LockPath(repoId, metadata.Etag), blob, _options.LockTimeout, _logger, repoId, fileName, ct)
            .ConfigureAwait(false))
        {
            // Another client or process may have finished it while we waited for the lock.
            string? problem = HubCache.CheckBlob(blob, metadata.Etag, metadata.Size, _options.VerifyCachedFiles, ct);
            if (problem is null)
            {
                _cache.EnsurePointer(blob, pointer);
                ReportCached(repoId, fileName, pointer, progress);
                return pointer;
            }

            if (File.Exists(blob))
            {
                HubLog.DamagedBlob(_logger, repoId, blob, problem);
            }

            Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
            string incomplete = HubCache.IncompletePath(blob);
            EnsureDiskSpace(repoId, fileName, metadata, incomplete);

            bool resumed = await DownloadToIncompleteAsync(repoId, fileName, metadata, incomplete, progress, ct).ConfigureAwait(false);
            string? mismatch = HubCache.VerifyContent(incomplete, metadata.Etag, metadata.Size, ct);
            if (mismatch is not null && resumed)
            {
                // The partial file left by an earlier attempt (another process, another day) may be the culprit.
                HubLog.ResumedDataBad(_logger, repoId, fileName, mismatch);
                File.Delete(incomplete);
                await DownloadToIncompleteAsync(repoId, fileName, metadata, incomplete, progress, ct).ConfigureAwait(false);
                mismatch = HubCache.VerifyContent(incomplete, metadata.Etag, metadata.Size, ct);
            }

            if (mismatch is not null)
            {
                HubCache.TryDelete(incomplete);
                throw new HubException(HubErrorKind.Integrity,
                    $"The download of '{fileName}' of '{repoId}' from {metadata.Url} is corrupt: {mismatch}. Nothing was cached; try again, " +
                    "and if it persists the server or a proxy in between is altering the file.",
                    repoId, fileName, metadata.Url);
            }

            File.Move(incomplete, blob, overwrite: true);
        }

        _cache.EnsurePointer(blob, pointer);
        return pointer;
    }

    private void EnsureDiskSpace(string repoId, string fileName, FileMetadata metadata, string incomplete)
    {
        long needed = metadata.Size - (File.Exists(incomplete) ? new FileInfo(incomplete).Length : 0);
        long available;
        try
        {
            available = new DriveInfo(Path.GetDirectoryName(incomplete)!).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return; // Unknown: let the write fail if it must.
        }

        if (needed > available)
        {
            throw new HubException(HubErrorKind.InsufficientDiskSpace,
                $"Not enough disk space for '{fileName}' of '{repoId}': the Hub announces {metadata.Size:N0} bytes, {needed:N0} are still needed " +
                $"and '{_cache.Root}' has {available:N0} free. Free some space or set HF_HUB_CACHE to a larger disk.",
                repoId, fileName, metadata.Url);
        }
    }

    /// <summary>
    /// Fills <paramref name="incomplete"/> up to the announced size, resuming what is there with a Range request and
    /// retrying broken transfers. Never writes past the announced size. Returns whether data of an earlier attempt
    /// was reused.
    /// </summary>
    private async Task<bool> DownloadToIncompleteAsync(string repoId, string fileName, FileMetadata metadata, string incomplete,
        IProgress<HubDownloadProgress>? progress, CancellationToken ct)
    {
        long expected = metadata.Size;
        Uri url = ResolveUrl(repoId, metadata.Commit, fileName);
        bool reusedEarlierData = File.Exists(incomplete) && new FileInfo(incomplete).Length > 0;
        int failures = 0;
        bool logged = false;
        while (true)
        {
            long have = File.Exists(incomplete) ? new FileInfo(incomplete).Length : 0;
            if (have > expected)
            {
                File.Delete(incomplete);
                have = 0;
                reusedEarlierData = false;
            }

            if (have == expected && File.Exists(incomplete))
            {
                progress?.Report(new HubDownloadProgress(fileName, have, expected));
                return reusedEarlierData;
            }

            if (!logged)
            {
                HubLog.Downloading(_logger, repoId, fileName, expected, url);
                logged = true;
            }

            if (have > 0)
            {
                HubLog.Resuming(_logger, repoId, fileName, have, expected);
            }

            try
            {
                await TransferAsync(repoId, fileName, url, have, expected, incomplete, progress, ct).ConfigureAwait(false);
            }
            catch (TransientNetworkException e)
            {
                failures++;
                long kept = File.Exists(incomplete) ? new FileInfo(incomplete).Length : 0;
                if (failures > _options.MaxRetries)
                {
                    throw new HubException(HubErrorKind.Network,
                        $"Downloading '{fileName}' of '{repoId}' from {e.Url} failed {failures} times: {e.Message}. {kept:N0} of {expected:N0} bytes " +
                        $"are kept in '{incomplete}'; the next attempt resumes from there.",
                        repoId, fileName, e.Url, e.StatusCode, e.InnerException);
                }

                HubLog.Retrying(_logger, repoId, fileName, failures, _options.MaxRetries + 1, e.Message);
                TimeSpan delay = _options.RetryDelay * Math.Pow(2, Math.Min(failures - 1, 6));
                await Task.Delay(delay, ct).ConfigureAwait(false);
            }
        }
    }

    private async Task TransferAsync(string repoId, string fileName, Uri url, long have, long expected, string incomplete,
        IProgress<HubDownloadProgress>? progress, CancellationToken ct)
    {
        using HttpResponseMessage response = await SendAsync(HttpMethod.Get, url, followAbsoluteRedirects: true,
            have > 0 ? have : null, ct).ConfigureAwait(false);
        Uri finalUrl = response.RequestMessage?.RequestUri ?? url;

        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            File.Delete(incomplete); // What we had does not fit what the server has: start over.
            throw new TransientNetworkException($"the server refused to resume at byte {have:N0} (HTTP 416)", finalUrl, response.StatusCode);
        }

        ThrowIfTransientStatus(response, finalUrl);
        if (!response.IsSuccessStatusCode)
        {
            throw MapError(response, repoId, fileName, finalUrl);
        }

        long offset = have;
        if (response.StatusCode != HttpStatusCode.PartialContent)
        {
            offset = 0; // The server ignored the Range header: the body is the whole file.
        }
        else if (response.Content.Headers.ContentRange is not { From: long from } range || from != have || (range.Length is long total && total != expected))
        {
            throw new HubException(HubErrorKind.Protocol,
                $"The server answered the request for '{fileName}' of '{repoId}' from byte {have:N0} with Content-Range " +
                $"'{response.Content.Headers.ContentRange}', which does not fit the {expected:N0}-byte file the Hub announced.",
                repoId, fileName, finalUrl, response.StatusCode);
        }

        long remaining = expected - offset;
        if (response.Content.Headers.ContentLength is long announced && announced != remaining)
        {
            throw new HubException(HubErrorKind.Protocol,
                $"The server announced Content-Length {announced:N0} for '{fileName}' of '{repoId}' but {remaining:N0} bytes are expected " +
                $"(the Hub's metadata says the file has {expected:N0}). Refusing a download whose length does not match.",
                repoId, fileName, finalUrl, response.StatusCode);
        }

        using var readTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Stream body;
        try
        {
            body = await response.Content.ReadAsStreamAsync(readTimeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (IsNetworkFailure(e, ct))
        {
            throw new TransientNetworkException(Describe(e), finalUrl, null, e);
        }

        await using (body.ConfigureAwait(false))
        {
            var file = new FileStream(incomplete, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None, 1, FileOptions.None);
            await using (file.ConfigureAwait(false))
            {
                file.SetLength(offset);
                file.Seek(offset, SeekOrigin.Begin);
                byte[] buffer = new byte[CopyBufferSize];
                long written = 0;
                var clock = Stopwatch.StartNew();
                TimeSpan lastReport = TimeSpan.Zero;
                progress?.Report(new HubDownloadProgress(fileName, offset, expected));
                while (true)
                {
                    int read;
                    try
                    {
                        readTimeout.CancelAfter(_options.RequestTimeout);
                        read = await body.ReadAsync(buffer, readTimeout.Token).ConfigureAwait(false);
                    }
                    catch (Exception e) when (IsNetworkFailure(e, ct))
                    {
                        await file.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                        throw new TransientNetworkException(
                            $"the connection broke after {offset + written:N0} of {expected:N0} bytes ({Describe(e)})", finalUrl, null, e);
                    }

                    if (read == 0)
                    {
                        break;
                    }

                    if (written + read > remaining)
                    {
                        await file.WriteAsync(buffer.AsMemory(0, (int)(remaining - written)), ct).ConfigureAwait(false);
                        throw new HubException(HubErrorKind.Protocol,
                            $"The server sent more than the {expected:N0} bytes the Hub announced for '{fileName}' of '{repoId}'; " +
                            "the excess was not written and the file was not cached.",
                            repoId, fileName, finalUrl, response.StatusCode);
                    }

                    await file.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                    written += read;
                    if (progress is not null && clock.Elapsed - lastReport >= ProgressInterval)
                    {
                        lastReport = clock.Elapsed;
                        progress.Report(new HubDownloadProgress(fileName, offset + written, expected));
                    }
                }

                file.Flush(flushToDisk: true);
                if (written < remaining)
                {
                    throw new TransientNetworkException(
                        $"the response ended after {offset + written:N0} of {expected:N0} bytes", finalUrl, response.StatusCode);
                }

                progress?.Report(new HubDownloadProgress(fileName, expected, expected));
            }
        }
    }

    // ---------------------------------------------------------------- Hub protocol

    private Uri ResolveUrl(string repoId, string revision, string fileName) =>
        new($"{_settings.Endpoint.AbsoluteUri.TrimEnd('/')}/{repoId}/resolve/{Uri.EscapeDataString(revision)}/{HubNames.EscapePath(fileName)}");

    private async Task<(string Commit, IReadOnlyList<string> Files)> GetModelInfoAsync(string repoId, string revision, CancellationToken ct)
    {
        var url = new Uri($"{_settings.Endpoint.AbsoluteUri.TrimEnd('/')}/api/models/{repoId}/revision/{Uri.EscapeDataString(revision)}");
        using HttpResponseMessage response = await SendAsync(HttpMethod.Get, url, followAbsoluteRedirects: false, null, ct).ConfigureAwait(false);
        Uri finalUrl = response.RequestMessage?.RequestUri ?? url;
        ThrowIfTransientStatus(response, finalUrl);
        if (!response.IsSuccessStatusCode)
        {
            throw MapError(response, repoId, null, finalUrl, revision);
        }

        string? commit;
        var files = new List<string>();
        try
        {
            using var readTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            readTimeout.CancelAfter(_options.RequestTimeout);
            // Metadata is small; a server sending megabytes of it is misbehaving.
            if (response.Content.Headers.ContentLength > 64L << 20)
            {
                throw new JsonException("the metadata is larger than 64 MB");
            }

            byte[] json = await response.Content.ReadAsByteArrayAsync(readTimeout.Token).ConfigureAwait(false);
            using JsonDocument document = JsonDocument.Parse(json);
            JsonElement root = document.RootElement;
            commit = root.TryGetProperty("sha", out JsonElement sha) && sha.ValueKind == JsonValueKind.String ? sha.GetString() : null;
            if (root.TryGetProperty("siblings", out JsonElement siblings) && siblings.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement sibling in siblings.EnumerateArray())
                {
                    if (sibling.ValueKind == JsonValueKind.Object && sibling.TryGetProperty("rfilename", out JsonElement name) &&
                        name.ValueKind == JsonValueKind.String && name.GetString() is string fileName)
                    {
                        if (HubNames.CheckFileName(fileName) is string problem)
                        {
                            HubLog.SkippingUnsafeName(_logger, repoId, fileName, problem);
                        }
                        else
                        {
                            files.Add(fileName);
                        }
                    }
                }
            }
        }
        catch (Exception e) when (IsNetworkFailure(e, ct))
        {
            throw new TransientNetworkException(Describe(e), finalUrl, null, e);
        }
        catch (JsonException e)
        {
            throw new HubException(HubErrorKind.Protocol, $"The Hub's metadata for '{repoId}' at {finalUrl} is not valid JSON: {e.Message}",
                repoId, null, finalUrl, response.StatusCode, e);
        }

        if (commit is null || !HubNames.IsCommitHash(commit))
        {
            throw new HubException(HubErrorKind.Protocol,
                $"The Hub's metadata for '{repoId}' at {finalUrl} has no valid commit hash ('sha': '{commit}').", repoId, null, finalUrl, response.StatusCode);
        }

        return (commit, files);
    }

    private async Task<FileMetadata> HeadAsync(string repoId, string revision, string fileName, CancellationToken ct)
    {
        Uri url = ResolveUrl(repoId, revision, fileName);
        using HttpResponseMessage response = await SendAsync(HttpMethod.Head, url, followAbsoluteRedirects: false, null, ct).ConfigureAwait(false);
        Uri finalUrl = response.RequestMessage?.RequestUri ?? url;
        ThrowIfTransientStatus(response, finalUrl);
        int status = (int)response.StatusCode;
        if (!response.IsSuccessStatusCode && status is < 300 or >= 400)
        {
            throw MapError(response, repoId, fileName, finalUrl, revision);
        }

        string? commit = Header(response, "X-Repo-Commit");
        string? etag = Header(response, "X-Linked-Etag") ?? Header(response, "ETag");
        string? sizeText = Header(response, "X-Linked-Size") ?? Header(response, "Content-Length");

        HubException Fail(string what) => new(HubErrorKind.Protocol,
            $"The Hub's answer for '{fileName}' of '{repoId}' at {finalUrl} (HTTP {status}) {what}; is HF_ENDPOINT a Hugging Face Hub?",
            repoId, fileName, finalUrl, response.StatusCode);

        if (commit is null || !HubNames.IsCommitHash(commit))
        {
            throw Fail($"has no valid X-Repo-Commit header ('{commit}')");
        }

        etag = etag is null ? null : HubNames.NormalizeEtag(etag);
        if (etag is null || !HubNames.IsSafeEtag(etag))
        {
            throw Fail($"has no usable ETag ('{etag}')");
        }

        if (!long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out long size))
        {
            throw Fail($"does not announce a valid file size ('{sizeText}')");
        }

        return new FileMetadata(commit, etag, size, finalUrl);
    }

    private static string? Header(HttpResponseMessage response, string name)
    {
        if (response.Headers.NonValidated.TryGetValues(name, out HeaderStringValues values) ||
            response.Content.Headers.NonValidated.TryGetValues(name, out values))
        {
            foreach (string value in values)
            {
                return value.Trim();
            }
        }

        return null;
    }

    /// <summary>
    /// Sends a request, following redirects by hand: relative ones always (renamed repositories), absolute ones
    /// (the CDN) only when asked. The token goes to the Hub's own host only.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri url, bool followAbsoluteRedirects, long? rangeFrom,
        CancellationToken ct)
    {
        for (int hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, url);
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
            if (_settings.Token is string token && IsHubHost(url))
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            if (rangeFrom is long from)
            {
                request.Headers.Range = new RangeHeaderValue(from, null);
            }

            HttpResponseMessage response;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                timeout.CancelAfter(_options.RequestTimeout);
                try
                {
                    response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (IsNetworkFailure(e, ct))
                {
                    throw new TransientNetworkException(Describe(e), url, null, e);
                }
            }

            int status = (int)response.StatusCode;
            string? location = status is >= 300 and < 400 ? Header(response, "Location") : null;
            if (location is null)
            {
                return response;
            }

            Uri? next = ParseLocation(url, location, out bool relative);
            if (next is null || (!relative && !followAbsoluteRedirects))
            {
                return response;
            }

            response.Dispose();
            if (hop >= 10)
            {
                throw new HubException(HubErrorKind.Protocol, $"Too many redirects starting from {url}.", null, null, url);
            }

            url = next;
        }
    }

    private static Uri? ParseLocation(Uri current, string location, out bool relative)
    {
        relative = false;
        if (location.StartsWith("//", StringComparison.Ordinal))
        {
            location = current.Scheme + ":" + location;
        }
        else if (location.StartsWith('/') || !location.Contains("://", StringComparison.Ordinal))
        {
            relative = true;
            return Uri.TryCreate(current, location, out Uri? combined) ? combined : null;
        }

        return Uri.TryCreate(location, UriKind.Absolute, out Uri? absolute) && (absolute.Scheme == Uri.UriSchemeHttp || absolute.Scheme == Uri.UriSchemeHttps)
            ? absolute
            : null;
    }

    private bool IsHubHost(Uri url) =>
        string.Equals(url.Host, _settings.Endpoint.Host, StringComparison.OrdinalIgnoreCase) && url.Port == _settings.Endpoint.Port &&
        url.Scheme == _settings.Endpoint.Scheme;

    private static bool IsNetworkFailure(Exception e, CancellationToken ct) =>
        !ct.IsCancellationRequested && e is HttpRequestException { StatusCode: null } or IOException or OperationCanceledException;

    private static string Describe(Exception e) => e is OperationCanceledException ? "timed out" : e.Message;

    private static void ThrowIfTransientStatus(HttpResponseMessage response, Uri url)
    {
        int status = (int)response.StatusCode;
        if (status is >= 500 or 429 or 408)
        {
            throw new TransientNetworkException($"HTTP {status} {response.ReasonPhrase}", url, response.StatusCode);
        }
    }

    private HubException MapError(HttpResponseMessage response, string repoId, string? fileName, Uri url, string? revision = null)
    {
        string? code = Header(response, "X-Error-Code");
        string? serverMessage = Header(response, "X-Error-Message");
        int status = (int)response.StatusCode;
        string context = $"(HTTP {status}{(code is null ? "" : " " + code)} at {url}{(serverMessage is null ? "" : ": " + serverMessage)})";
        string file = fileName is null ? "" : $"'{fileName}' of ";
        string tokenHint = _settings.Token is null
            ? "If it is private, log in: set HF_TOKEN (or HubClientOptions.Token) to an access token"
            : "The token that was sent has no access to it: check it is valid and has read permission";

        (HubErrorKind kind, string message) = (code, status) switch
        {
            ("GatedRepo", _) or (null, 403) => (HubErrorKind.GatedRepository,
                $"'{repoId}' is a gated model {context}. Accept its conditions at {_settings.Endpoint.AbsoluteUri.TrimEnd('/')}/{repoId} while logged in, " +
                $"then pass a token of that account: set HF_TOKEN or HubClientOptions.Token." +
                (_settings.Token is null ? " No token was sent." : " The token that was sent is not (yet) granted access.")),
            ("RepoNotFound", _) or (null, 401) => (HubErrorKind.RepositoryNotFound,
                $"Model '{repoId}' was not found on the Hub {context}. Check the id (organization/name). {tokenHint}."),
            ("RevisionNotFound", _) => (HubErrorKind.RevisionNotFound,
                $"Revision '{revision}' of '{repoId}' was not found {context}. Check the branch, tag or commit."),
            ("EntryNotFound", _) => (HubErrorKind.EntryNotFound,
                $"File {file}'{repoId}' was not found at revision '{revision}' {context}."),
            (null, 404) => fileName is null
                ? (HubErrorKind.RepositoryNotFound, $"Model '{repoId}' was not found on the Hub {context}. Check the id. {tokenHint}.")
                : (HubErrorKind.EntryNotFound, $"File {file}'{repoId}' was not found at revision '{revision}' {context}."),
            _ => (HubErrorKind.Other, $"The Hub refused {file}'{repoId}' {context}."),
        };
        return new HubException(kind, message, repoId, fileName, url, response.StatusCode);
    }

    /// <summary>What a HEAD on <c>resolve/{revision}/{file}</c> tells: commit, content hash (ETag) and size.</summary>
    private sealed record FileMetadata(string Commit, string Etag, long Size, Uri Url);

    /// <summary>A failure worth retrying or falling back to the cache for: the network, not the Hub's answer.</summary>
    private sealed class TransientNetworkException(string message, Uri url, HttpStatusCode? statusCode, Exception? inner = null)
        : Exception(message, inner)
    {
        public Uri Url { get; } = url;

        public HttpStatusCode? StatusCode { get; } = statusCode;
    }
}
