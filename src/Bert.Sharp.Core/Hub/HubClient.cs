using System.Net;
using System.Net.Http.Headers;
using Bert.Sharp.Hub;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly.Timeout;

namespace Bert.Sharp;

/// <summary>
/// Downloads model files from the Hugging Face Hub into the cache Python's <c>huggingface_hub</c> uses, so a
/// model fetched by either is found by the other, and works offline once cached. Prefer this asynchronous client
/// in applications; <see cref="PretrainedResolver"/> wraps it for the <c>FromPretrained</c> methods.
/// </summary>
/// <remarks>
/// Every file is checked against the size and hash the Hub announces before it is moved into the cache in one
/// atomic rename, and re-checked before a cached copy is used; a broken transfer is retried with exponential
/// back-off (a Polly pipeline: see <see cref="HubClientOptions.MaxRetries"/>) and resumed with a Range request; two
/// clients or processes downloading the same file take turns on a lock file, and the second finds the first one's
/// result. A client is thread-safe; dispose it to release its HTTP connections.
/// </remarks>
public sealed partial class HubClient : IDisposable
{
    private readonly HubSettings _settings;
    private readonly HubClientOptions _options;
    private readonly HubCache _cache;
    private readonly HttpClient _http;
    private readonly ILogger _logger;
    private readonly HubResilience _resilience;

    /// <summary>Creates a client; <c>null</c> options read everything from the environment, as Python does.</summary>
    /// <param name="options">Endpoint, token, cache folder, offline mode, retries, timeouts, limits, logger.</param>
    /// <exception cref="ArgumentException">The endpoint is not an absolute http(s) URL, or a limit or timeout is out of range (the message names it).</exception>
    public HubClient(HubClientOptions? options = null)
    {
        _options = options ?? new HubClientOptions();
        _logger = _options.Logger ?? NullLogger.Instance;
        _resilience = new HubResilience(_options, _logger);
        _settings = HubSettings.Resolve(_options);
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
    /// <exception cref="HubException">The Hub refused (not found, gated), the transfer failed or timed out, or offline and not cached.</exception>
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
    /// <exception cref="HubException">The Hub refused (not found, gated), the transfer failed or timed out, or offline and not cached.</exception>
    public Task<string> DownloadFileAsync(string repoId, string fileName, string? revision = null,
        IProgress<HubDownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        HubNames.ValidateRepoId(repoId, nameof(repoId));
        HubNames.ValidateFileName(fileName, nameof(fileName));
        revision = CheckRevision(revision);

        // Offline, or pinned to a commit that is already cached (a commit never changes): no request at all.
        if (_settings.Offline ||
            (HubNames.IsCommitHash(revision) && _cache.TryGetCachedFile(repoId, revision, fileName, _options.VerifyCachedFiles, out _) is not null))
        {
            return Task.FromResult(CachedFileOrThrow(repoId, revision, fileName, progress, reason: null));
        }

        return RunCallAsync(repoId, scope => DownloadFileCoreAsync(scope, fileName, revision, progress), cancellationToken);
    }

    /// <summary>Lists the files of a repository at a revision (the Hub's <c>siblings</c>), with the commit they belong to.</summary>
    /// <param name="repoId"><c>name</c> or <c>organization/name</c>.</param>
    /// <param name="revision">Branch, tag or commit; default <c>main</c>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The commit the revision points to and the repository's files at it (unsafe names left out).</returns>
    /// <exception cref="HubException">Offline, unreachable, timed out, not found or gated; a list that is not valid.</exception>
    public Task<HubRepositoryFiles> ListFilesAsync(string repoId, string? revision = null,
        CancellationToken cancellationToken = default)
    {
        HubNames.ValidateRepoId(repoId, nameof(repoId));
        revision = CheckRevision(revision);
        if (_settings.Offline)
        {
            throw new HubException(HubErrorKind.OfflineNotCached,
                $"Cannot list the files of '{repoId}': offline mode (HF_HUB_OFFLINE) is on.", repoId);
        }

        return RunCallAsync(repoId, async scope =>
        {
            try
            {
                RepositoryListing listing = await GetModelInfoAsync(scope, _resilience.Requests, revision).ConfigureAwait(false);
                return new HubRepositoryFiles(repoId, listing.Commit, listing.Files);
            }
            catch (TransientHubException e)
            {
                throw Failed(scope, null, e);
            }
        }, cancellationToken);
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    internal Task<string> DownloadSelectionAsync(string repoId, string revision, FileSelection selection,
        IProgress<HubDownloadProgress>? progress, CancellationToken cancellationToken)
    {
        if (TryResolveFromCacheOnly(repoId, revision, selection, progress) is string cached)
        {
            return Task.FromResult(cached);
        }

        return RunCallAsync(repoId, scope => DownloadSelectionCoreAsync(scope, revision, selection, progress), cancellationToken);
    }

    /// <summary>
    /// The snapshot folder when no request is needed — offline (then a miss throws), or a pinned commit whose wanted
    /// files are all cached — else <c>null</c>. Synchronous: this is the <c>FromPretrained</c> path that never blocks on I/O
    /// other than the file system.
    /// </summary>
    internal string? TryResolveFromCacheOnly(string repoId, string revision, FileSelection selection, IProgress<HubDownloadProgress>? progress) =>
        _settings.Offline || (HubNames.IsCommitHash(revision) && IsCachedSnapshotComplete(repoId, revision, selection))
            ? CachedSnapshotOrThrow(repoId, revision, selection, progress, reason: null)
            : null;

    private async Task<string> DownloadFileCoreAsync(HubCallScope scope, string fileName, string revision, IProgress<HubDownloadProgress>? progress)
    {
        string repoId = scope.RepoId;
        scope.Working(fileName);
        bool cacheCanServe = TryCachedFile(repoId, revision, fileName) is not null;
        FileMetadata metadata;
        try
        {
            metadata = await HeadAsync(scope, cacheCanServe ? _resilience.Probe : _resilience.Requests, revision, fileName).ConfigureAwait(false);
        }
        catch (TransientHubException e) when (cacheCanServe || e.Failure == TransientFailure.Unreachable)
        {
            return CachedFileOrThrow(repoId, revision, fileName, progress, e);
        }
        catch (TransientHubException e)
        {
            throw Failed(scope, fileName, e);
        }

        if (_cache.FindConflict(repoId, metadata.Commit, fileName) is string other)
        {
            throw HubCache.Conflict(repoId, metadata.Commit, fileName, other);
        }

        string path = await EnsureFileAsync(scope, fileName, metadata, progress).ConfigureAwait(false);
        _cache.WriteRef(repoId, revision, metadata.Commit);
        return path;
    }

    private async Task<string> DownloadSelectionCoreAsync(HubCallScope scope, string revision, FileSelection selection,
        IProgress<HubDownloadProgress>? progress)
    {
        string repoId = scope.RepoId;
        bool cacheCanServe = TryCachedSnapshot(repoId, revision, selection) is not null;
        RepositoryListing listing;
        try
        {
            listing = await GetModelInfoAsync(scope, cacheCanServe ? _resilience.Probe : _resilience.Requests, revision).ConfigureAwait(false);
        }
        catch (TransientHubException e) when (cacheCanServe || e.Failure == TransientFailure.Unreachable)
        {
            return CachedSnapshotOrThrow(repoId, revision, selection, progress, e);
        }
        catch (TransientHubException e)
        {
            throw Failed(scope, null, e);
        }

        IReadOnlyList<string> wanted = selection.Select(repoId, revision, listing.Files);
        foreach (string fileName in wanted)
        {
            if (_cache.FindConflict(repoId, listing.Commit, fileName) is string other)
            {
                throw HubCache.Conflict(repoId, listing.Commit, fileName, other);
            }
        }

        foreach (string fileName in wanted)
        {
            scope.Working(fileName);
            FileMetadata metadata;
            try
            {
                // The Hub answered a moment ago: a failure here is retried, not a reason to fall back to the cache.
                metadata = await HeadAsync(scope, _resilience.Requests, listing.Commit, fileName).ConfigureAwait(false);
            }
            catch (TransientHubException e)
            {
                throw Failed(scope, fileName, e);
            }

            await EnsureFileAsync(scope, fileName, metadata with { Commit = listing.Commit }, progress).ConfigureAwait(false);
        }

        _cache.WriteRef(repoId, revision, listing.Commit);
        string snapshot = _cache.SnapshotFolder(repoId, listing.Commit);
        Directory.CreateDirectory(snapshot);
        return snapshot;
    }

    /// <summary>Runs one public call under the overall deadline, turning the deadline into a <see cref="HubException"/> that names the request under way.</summary>
    private async Task<T> RunCallAsync<T>(string repoId, Func<HubCallScope, Task<T>> body, CancellationToken cancellationToken)
    {
        HubCallScope? scope = null;
        try
        {
            return await HubResilience.ExecuteAsync(_resilience.Deadline, repoId, null,
                token => body(scope = new HubCallScope(repoId, token)), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException e) when (!cancellationToken.IsCancellationRequested)
        {
            Uri? url = scope?.CurrentUrl;
            string? file = scope?.CurrentFile;
            string limit = _options.OverallTimeout is TimeSpan overall ? $"within HubClientOptions.OverallTimeout ({overall})" : "in time";
            throw new HubException(HubErrorKind.Timeout,
                $"Getting {(file is null ? "" : $"'{file}' of ")}'{repoId}' did not finish {limit}" +
                $"{(url is null ? "" : $"; the request under way was {url}")}. A partial download is kept and resumed by the next call.",
                repoId, file, url, innerException: e);
        }
    }

    /// <summary>The error for a request or transfer whose every attempt failed.</summary>
    private HubException Failed(HubCallScope scope, string? fileName, TransientHubException e)
    {
        string what = fileName is null ? $"the file list of '{scope.RepoId}'" : $"'{fileName}' of '{scope.RepoId}'";
        string attempts = _resilience.WaitTooLong(e)
            ? $"the server asked to retry after {e.RetryAfter}, longer than HubClientOptions.MaxRetryDelay ({_options.MaxRetryDelay}), so no retry was made"
            : $"{_options.MaxRetries + 1} attempts failed";
        return new HubException(e.FinalKind, $"Could not get {what} from {e.Url}: {e.Message} ({attempts}).",
            scope.RepoId, fileName, e.Url, e.StatusCode, e.InnerException);
    }

    private static string CheckRevision(string? revision)
    {
        revision ??= HubNames.DefaultRevision;
        HubNames.ValidateRevision(revision, nameof(revision));
        return revision;
    }
}
