using System.Diagnostics;
using System.Net;
using Bert.Sharp.Hub;

namespace Bert.Sharp;

/// <summary>Downloading a file into the cache: locked, resumed, bounded by the announced size, verified before it is committed.</summary>
public sealed partial class HubClient
{
    private const int CopyBufferSize = 1 << 16;
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(100);

    private async Task<string> EnsureFileAsync(HubCallScope scope, string fileName, FileMetadata metadata, IProgress<HubDownloadProgress>? progress)
    {
        string repoId = scope.RepoId;
        CancellationToken ct = scope.Token;
        string blob = _cache.BlobPath(repoId, metadata.Etag);

        if (_cache.CheckBlob(repoId, blob, metadata.Etag, metadata.Size, _options.VerifyCachedFiles, ct) is null)
        {
            string cached = _cache.EnsurePointer(repoId, metadata.Commit, fileName, blob);
            ReportCached(repoId, fileName, cached, progress);
            return cached;
        }

        using (await BlobLock.AcquireAsync(_cache.LockPath(repoId, metadata.Etag), blob, _options.LockTimeout, _logger, repoId, fileName, ct)
            .ConfigureAwait(false))
        {
            // Another client or process may have finished it while we waited for the lock.
            string? problem = _cache.CheckBlob(repoId, blob, metadata.Etag, metadata.Size, _options.VerifyCachedFiles, ct);
            if (problem is null)
            {
                string cached = _cache.EnsurePointer(repoId, metadata.Commit, fileName, blob);
                ReportCached(repoId, fileName, cached, progress);
                return cached;
            }

            if (File.Exists(blob))
            {
                HubLog.DamagedBlob(_logger, repoId, blob, problem);
            }

            Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
            string incomplete = HubCache.IncompletePath(blob);
            EnsureDiskSpace(repoId, fileName, metadata, incomplete);

            bool resumed = await DownloadToIncompleteAsync(scope, fileName, metadata, incomplete, progress).ConfigureAwait(false);
            string? mismatch = HubCache.VerifyContent(incomplete, metadata.Etag, metadata.Size, ct);
            if (mismatch is not null && resumed)
            {
                // The partial file left by an earlier attempt (another process, another day) may be the culprit.
                HubLog.ResumedDataBad(_logger, repoId, fileName, mismatch);
                File.Delete(incomplete);
                await DownloadToIncompleteAsync(scope, fileName, metadata, incomplete, progress).ConfigureAwait(false);
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

            // Verified: committed in one rename, and recorded so that a later cache hit needs no re-hash.
            File.Move(incomplete, blob, overwrite: true);
            _cache.RecordVerified(repoId, blob, metadata.Etag);
        }

        return _cache.EnsurePointer(repoId, metadata.Commit, fileName, blob);
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
    /// Fills <paramref name="incomplete"/> up to the announced size through the transfer pipeline (retry with back-off),
    /// each attempt resuming what is there with a Range request. A file whose ETag is not a content hash is never resumed:
    /// with nothing to check the pieces against, every attempt starts over. Never writes past the announced size.
    /// Returns whether data of an earlier call was reused.
    /// </summary>
    private async Task<bool> DownloadToIncompleteAsync(HubCallScope scope, string fileName, FileMetadata metadata, string incomplete,
        IProgress<HubDownloadProgress>? progress)
    {
        string repoId = scope.RepoId;
        long expected = metadata.Size;
        Uri url = ResolveUrl(repoId, metadata.Commit, fileName);
        bool canResume = HubNames.IsSha256(metadata.Etag) || HubNames.IsSha1(metadata.Etag);
        if (!canResume)
        {
            HubCache.TryDelete(incomplete);
        }

        bool reusedEarlierData = File.Exists(incomplete) && new FileInfo(incomplete).Length > 0;
        bool logged = false;
        try
        {
            await HubResilience.ExecuteAsync(_resilience.Transfers, repoId, fileName, async token =>
            {
                long have = File.Exists(incomplete) ? new FileInfo(incomplete).Length : 0;
                if (have > expected || (have > 0 && !canResume))
                {
                    File.Delete(incomplete);
                    have = 0;
                }

                if (have == expected && File.Exists(incomplete))
                {
                    progress?.Report(new HubDownloadProgress(fileName, have, expected));
                    return true;
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

                await TransferAsync(scope, fileName, url, have, expected, incomplete, progress, token).ConfigureAwait(false);
                return true;
            }, scope.Token).ConfigureAwait(false);
        }
        catch (TransientHubException e)
        {
            long kept = File.Exists(incomplete) ? new FileInfo(incomplete).Length : 0;
            string attempts = _resilience.WaitTooLong(e)
                ? $"the server asked to retry after {e.RetryAfter}, longer than HubClientOptions.MaxRetryDelay ({_options.MaxRetryDelay}), so no retry was made"
                : $"{_options.MaxRetries + 1} attempts failed";
            string next = canResume
                ? $"{kept:N0} of {expected:N0} bytes are kept in '{incomplete}'; the next attempt resumes from there."
                : "Its ETag is not a content hash, so a partial file cannot be checked and the next attempt starts over.";
            throw new HubException(e.FinalKind,
                $"Downloading '{fileName}' of '{repoId}' from {e.Url} failed ({attempts}): {e.Message}. {next}",
                repoId, fileName, e.Url, e.StatusCode, e.InnerException);
        }

        return reusedEarlierData;
    }

    /// <summary>One attempt: request the rest of the file, check what the server says it sends, and stream it to disk.</summary>
    private async Task TransferAsync(HubCallScope scope, string fileName, Uri url, long have, long expected, string incomplete,
        IProgress<HubDownloadProgress>? progress, CancellationToken ct)
    {
        string repoId = scope.RepoId;
        HttpResponseMessage response;
        using (var headers = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            headers.CancelAfter(_options.RequestTimeout);
            try
            {
                response = await SendAsync(scope, HttpMethod.Get, url, followAbsoluteRedirects: true, have > 0 ? have : null, headers.Token)
                    .ConfigureAwait(false);
            }
            catch (Exception e) when (scope.IsAttemptFailure(e) && !ct.IsCancellationRequested)
            {
                throw Transient(e, scope.CurrentUrl ?? url, $"no response headers within HubClientOptions.RequestTimeout ({_options.RequestTimeout})");
            }
        }

        using (response)
        {
            Uri finalUrl = response.RequestMessage?.RequestUri ?? url;
            long offset = CheckTransferResponse(response, repoId, fileName, finalUrl, have, expected, incomplete);
            Stream body;
            try
            {
                body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (scope.IsAttemptFailure(e))
            {
                throw Transient(e, finalUrl, "the body could not be opened in time");
            }

            await using (body.ConfigureAwait(false))
            {
                await CopyBodyAsync(scope, body, fileName, finalUrl, response.StatusCode, offset, expected, incomplete, progress, ct)
                    .ConfigureAwait(false);
            }
        }
    }

    /// <summary>Checks status, Content-Range and Content-Length against the announced size; returns the offset the body starts at.</summary>
    private long CheckTransferResponse(HttpResponseMessage response, string repoId, string fileName, Uri url, long have, long expected, string incomplete)
    {
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            File.Delete(incomplete); // What we had does not fit what the server has: start over.
            throw new TransientHubException(TransientFailure.Broken, $"the server refused to resume at byte {have:N0} (HTTP 416)", url, response.StatusCode);
        }

        ThrowIfTransientStatus(response, url);
        if (!response.IsSuccessStatusCode)
        {
            throw MapError(response, repoId, fileName, url);
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
                repoId, fileName, url, response.StatusCode);
        }

        long remaining = expected - offset;
        if (response.Content.Headers.ContentLength is long announced && announced != remaining)
        {
            throw new HubException(HubErrorKind.Protocol,
                $"The server announced Content-Length {announced:N0} for '{fileName}' of '{repoId}' but {remaining:N0} bytes are expected " +
                $"(the Hub's metadata says the file has {expected:N0}). Refusing a download whose length does not match.",
                repoId, fileName, url, response.StatusCode);
        }

        return offset;
    }

    /// <summary>
    /// Streams the body into the partial file from <paramref name="offset"/>, never past <paramref name="expected"/>
    /// bytes, with an idle timeout per read and a minimum average speed (<see cref="TransferWatch"/>).
    /// </summary>
    private async Task CopyBodyAsync(HubCallScope scope, Stream body, string fileName, Uri url, HttpStatusCode status, long offset, long expected,
        string incomplete, IProgress<HubDownloadProgress>? progress, CancellationToken ct)
    {
        string repoId = scope.RepoId;
        long remaining = expected - offset;
        var file = new FileStream(incomplete, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None, 1, FileOptions.None);
        bool tooLong = false;
        await using (file.ConfigureAwait(false))
        {
            file.SetLength(offset);
            file.Seek(offset, SeekOrigin.Begin);
            byte[] buffer = new byte[CopyBufferSize];
            long written = 0;
            var clock = Stopwatch.StartNew();
            TimeSpan lastReport = TimeSpan.Zero;
            progress?.Report(new HubDownloadProgress(fileName, offset, expected));
            using var watch = new TransferWatch(_options.ReadTimeout, _options.MinimumBytesPerSecond, ct);
            while (true)
            {
                int read;
                try
                {
                    read = await watch.ReadAsync(body, buffer).ConfigureAwait(false);
                }
                catch (Exception e) when (scope.IsAttemptFailure(e) && !ct.IsCancellationRequested)
                {
                    await file.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                    TransientHubException failure = Transient(e, url, $"no data for HubClientOptions.ReadTimeout ({_options.ReadTimeout})");
                    throw new TransientHubException(failure.Failure,
                        $"the transfer broke off after {offset + written:N0} of {expected:N0} bytes ({failure.Message})", url, null, inner: e);
                }

                if (read == 0)
                {
                    break;
                }

                if (written + read > remaining)
                {
                    tooLong = true;
                    break;
                }

                await file.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                written += read;
                if (watch.Received(read) is string stalled)
                {
                    await file.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                    throw new TransientHubException(TransientFailure.TimedOut,
                        $"{stalled}, after {offset + written:N0} of {expected:N0} bytes", url);
                }

                if (progress is not null && clock.Elapsed - lastReport >= ProgressInterval)
                {
                    lastReport = clock.Elapsed;
                    progress.Report(new HubDownloadProgress(fileName, offset + written, expected));
                }
            }

            if (!tooLong)
            {
                file.Flush(flushToDisk: true);
                if (written < remaining)
                {
                    throw new TransientHubException(TransientFailure.Broken,
                        $"the response ended after {offset + written:N0} of {expected:N0} bytes", url, status);
                }
            }
        }

        if (tooLong)
        {
            // What the server sent is not the file the Hub described: none of it is kept, so no later call can mistake a
            // cut-off prefix for the file (which, without a content hash, nothing else would catch).
            HubCache.TryDelete(incomplete);
            throw new HubException(HubErrorKind.Protocol,
                $"The server sent more than the {expected:N0} bytes the Hub announced for '{fileName}' of '{repoId}' from {url}; " +
                "the download was discarded and nothing was cached.",
                repoId, fileName, url, status);
        }

        progress?.Report(new HubDownloadProgress(fileName, expected, expected));
    }
}
