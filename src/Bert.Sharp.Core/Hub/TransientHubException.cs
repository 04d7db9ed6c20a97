using System.Net;

namespace Bert.Sharp.Hub;

/// <summary>Why an attempt failed in a way worth retrying.</summary>
internal enum TransientFailure
{
    /// <summary>No connection could be made (refused, DNS failure): the Hub is unreachable, the cache may serve.</summary>
    Unreachable,

    /// <summary>The attempt ran out of time: no headers, no bytes, or too few bytes per second.</summary>
    TimedOut,

    /// <summary>The server answered 5xx, 408 or 429.</summary>
    ServerBusy,

    /// <summary>The connection broke mid-answer, or the body ended early.</summary>
    Broken,
}

/// <summary>
/// A failure worth retrying (or, for the first request of a call, worth falling back to the cache for): the network,
/// not the Hub's answer. Only the resilience pipeline sees it; callers turn the last one into a <see cref="HubException"/>.
/// </summary>
internal sealed class TransientHubException(TransientFailure failure, string message, Uri url, HttpStatusCode? statusCode = null,
    TimeSpan? retryAfter = null, Exception? inner = null) : Exception(message, inner)
{
    public TransientFailure Failure { get; } = failure;

    public Uri Url { get; } = url;

    public HttpStatusCode? StatusCode { get; } = statusCode;

    /// <summary>The wait the server asked for with <c>Retry-After</c>, if it did.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>The kind of the final error when every retry failed like this.</summary>
    public HubErrorKind FinalKind => Failure == TransientFailure.TimedOut ? HubErrorKind.Timeout : HubErrorKind.Network;
}
