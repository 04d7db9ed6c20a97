using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Hub;

/// <summary>Log messages of the hub client (source-generated, allocation-free when disabled).</summary>
internal static partial class HubLog
{
    [LoggerMessage(EventId = 7001, Level = LogLevel.Debug, Message = "{RepoId}: {FileName} served from the cache ({Path})")]
    public static partial void CacheHit(ILogger logger, string repoId, string fileName, string path);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Information, Message = "{RepoId}: downloading {FileName} ({TotalBytes} bytes) from {Url}")]
    public static partial void Downloading(ILogger logger, string repoId, string fileName, long totalBytes, Uri url);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Information, Message = "{RepoId}: resuming {FileName} at byte {Offset} of {TotalBytes}")]
    public static partial void Resuming(ILogger logger, string repoId, string fileName, long offset, long totalBytes);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Warning, Message = "{RepoId}: request for {FileName} failed (attempt {Attempt} of {MaxAttempts}), retrying in {DelayMs} ms: {Url}: {Reason}")]
    public static partial void Retrying(ILogger logger, string repoId, string fileName, int attempt, int maxAttempts, long delayMs, Uri url, string reason);

    [LoggerMessage(EventId = 7005, Level = LogLevel.Warning, Message = "{RepoId}: cached blob {Path} is not used: {Reason}")]
    public static partial void DamagedBlob(ILogger logger, string repoId, string path, string reason);

    [LoggerMessage(EventId = 7006, Level = LogLevel.Warning, Message = "{RepoId}: the Hub could not be reached ({Reason}); using the cached snapshot {Commit}")]
    public static partial void UsingCacheWhileUnreachable(ILogger logger, string repoId, string reason, string commit);

    [LoggerMessage(EventId = 7007, Level = LogLevel.Information, Message = "Waiting for another download of {Path} to finish (lock {LockPath})")]
    public static partial void WaitingForLock(ILogger logger, string path, string lockPath);

    [LoggerMessage(EventId = 7008, Level = LogLevel.Warning, Message = "{RepoId}: skipping file name {FileName} listed by the Hub: {Reason}")]
    public static partial void SkippingUnsafeName(ILogger logger, string repoId, string fileName, string reason);

    [LoggerMessage(EventId = 7009, Level = LogLevel.Warning, Message = "{RepoId}: resumed data of {FileName} failed verification ({Reason}); starting over")]
    public static partial void ResumedDataBad(ILogger logger, string repoId, string fileName, string reason);

    [LoggerMessage(EventId = 7010, Level = LogLevel.Debug, Message = "Symbolic links are not available in {Directory} ({Reason}); copying blobs into snapshots instead")]
    public static partial void NoSymlinks(ILogger logger, string directory, string reason);

    [LoggerMessage(EventId = 7012, Level = LogLevel.Debug, Message = "Could not record that {Path} was verified ({Reason}); it will be treated as not verified by this library")]
    public static partial void CannotRecordVerification(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 7011, Level = LogLevel.Warning, Message = "{RepoId}: ignoring refs/{Revision}: its content is not a commit hash")]
    public static partial void BadRef(ILogger logger, string repoId, string revision);
}
