using System.Net;

namespace Bert.Sharp;

/// <summary>What went wrong talking to the Hugging Face Hub or its cache; see <see cref="HubException.Kind"/>.</summary>
public enum HubErrorKind
{
    /// <summary>Any other failure (an unexpected HTTP status, for example).</summary>
    Other,

    /// <summary>The repository does not exist, or it is private and no (valid) token was sent (HTTP 401/404 <c>RepoNotFound</c>).</summary>
    RepositoryNotFound,

    /// <summary>The repository is gated: accept its conditions on the Hub and send a token (HTTP 403, or <c>GatedRepo</c>).</summary>
    GatedRepository,

    /// <summary>The file does not exist at that revision (HTTP 404 <c>EntryNotFound</c>).</summary>
    EntryNotFound,

    /// <summary>The branch, tag or commit does not exist (HTTP 404 <c>RevisionNotFound</c>).</summary>
    RevisionNotFound,

    /// <summary>Offline (<c>HF_HUB_OFFLINE</c>, or the Hub is unreachable) and the files are not in the cache.</summary>
    OfflineNotCached,

    /// <summary>The request or transfer kept failing (connection dropped, HTTP 5xx or 429) after every retry.</summary>
    Network,

    /// <summary>The downloaded bytes do not match the size or the sha256 the Hub announced; nothing was cached.</summary>
    Integrity,

    /// <summary>The server's answer is not what the Hub protocol promises (a missing commit header, an unsafe ETag or file name, a lying length).</summary>
    Protocol,

    /// <summary>The cache's disk has less free space than the file needs.</summary>
    InsufficientDiskSpace,

    /// <summary>Another process held the file's download lock longer than <see cref="HubClientOptions.LockTimeout"/>.</summary>
    LockTimeout,

    /// <summary>
    /// Too slow: a request got no answer within <see cref="HubClientOptions.RequestTimeout"/>, a transfer stalled
    /// (<see cref="HubClientOptions.ReadTimeout"/>, <see cref="HubClientOptions.MinimumBytesPerSecond"/>) after every
    /// retry, or the whole call ran past <see cref="HubClientOptions.OverallTimeout"/>. <see cref="HubException.Url"/>
    /// names the request that was under way.
    /// </summary>
    Timeout,
}

/// <summary>
/// A Hugging Face Hub download or cache lookup failed. The message says what to do; the properties carry the
/// repository, file, URL and HTTP status involved.
/// </summary>
public class HubException : Exception
{
    /// <summary>Creates an exception of kind <see cref="HubErrorKind.Other"/>.</summary>
    public HubException()
    {
    }

    /// <summary>Creates an exception of kind <see cref="HubErrorKind.Other"/> with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public HubException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception of kind <see cref="HubErrorKind.Other"/> with a message and a cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying failure.</param>
    public HubException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception with its full context.</summary>
    /// <param name="kind">The category of failure.</param>
    /// <param name="message">What went wrong and what to do about it.</param>
    /// <param name="repoId">The repository id.</param>
    /// <param name="fileName">The file inside the repository, if one was involved.</param>
    /// <param name="url">The URL requested, if any.</param>
    /// <param name="statusCode">The HTTP status received, if any.</param>
    /// <param name="innerException">The underlying failure.</param>
    public HubException(HubErrorKind kind, string message, string? repoId, string? fileName = null, Uri? url = null,
        HttpStatusCode? statusCode = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        RepoId = repoId;
        FileName = fileName;
        Url = url;
        StatusCode = statusCode;
    }

    /// <summary>The category of failure, for code that reacts differently to, say, a gated model and a typo.</summary>
    public HubErrorKind Kind { get; }

    /// <summary>The repository id, e.g. <c>google-bert/bert-base-uncased</c>.</summary>
    public string? RepoId { get; }

    /// <summary>The file inside the repository, when the failure concerns one.</summary>
    public string? FileName { get; }

    /// <summary>The URL that was requested, when the failure came from a request.</summary>
    public Uri? Url { get; }

    /// <summary>The HTTP status received, when there was one.</summary>
    public HttpStatusCode? StatusCode { get; }
}
