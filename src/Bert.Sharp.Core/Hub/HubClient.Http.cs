using System.Net.Http.Headers;
using Bert.Sharp.Hub;

namespace Bert.Sharp;

/// <summary>Sending requests: redirects, the token, and telling a failure worth retrying from the Hub's answer.</summary>
public sealed partial class HubClient
{
    private const int MaxRedirects = 10;

    /// <summary>
    /// Sends a request, following redirects by hand: relative ones always (renamed repositories), absolute ones
    /// (the CDN) only when asked. The token goes to the Hub's own host only. No timeout of its own: the caller's
    /// <paramref name="ct"/> carries the attempt's.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(HubCallScope scope, HttpMethod method, Uri url, bool followAbsoluteRedirects,
        long? rangeFrom, CancellationToken ct)
    {
        for (int hop = 0; ; hop++)
        {
            scope.Requesting(url);
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

            HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
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
            if (hop >= MaxRedirects)
            {
                throw new HubException(HubErrorKind.Protocol, $"Too many redirects (more than {MaxRedirects}) starting from {url}.", scope.RepoId,
                    scope.CurrentFile, url);
            }

            url = next;
        }
    }

    /// <summary>
    /// Runs one attempt of a metadata request, turning a network failure of the attempt (a connection error, a broken
    /// body, the per-attempt timeout) into a <see cref="TransientHubException"/> for the retry to see. The caller
    /// cancelling, or the overall deadline, passes through untouched.
    /// </summary>
    private async Task<T> AttemptAsync<T>(HubCallScope scope, Uri url, Func<Task<T>> attempt)
    {
        try
        {
            return await attempt().ConfigureAwait(false);
        }
        catch (Exception e) when (scope.IsAttemptFailure(e))
        {
            throw Transient(e, scope.CurrentUrl ?? url, $"no complete answer within HubClientOptions.RequestTimeout ({_options.RequestTimeout})");
        }
    }

    /// <summary>A network failure as a retryable failure; <paramref name="timeoutText"/> says which timeout an <see cref="OperationCanceledException"/> was.</summary>
    private static TransientHubException Transient(Exception e, Uri url, string timeoutText)
    {
        (TransientFailure failure, string message) = e switch
        {
            OperationCanceledException => (TransientFailure.TimedOut, timeoutText),
            HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.ProxyTunnelError }
                => (TransientFailure.Unreachable, e.Message),
            _ => (TransientFailure.Broken, e.Message),
        };
        return new TransientHubException(failure, message, url, inner: e);
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

    /// <summary>5xx, 408 and 429 are worth retrying (after the <c>Retry-After</c> the server asks for); every other status is the Hub's answer.</summary>
    private static void ThrowIfTransientStatus(HttpResponseMessage response, Uri url)
    {
        int status = (int)response.StatusCode;
        if (status is >= 500 or 429 or 408)
        {
            TimeSpan? retryAfter = RetryAfter(response);
            string wait = retryAfter is TimeSpan t ? $" (Retry-After: {t.TotalSeconds:0.###} s)" : "";
            throw new TransientHubException(TransientFailure.ServerBusy, $"HTTP {status} {response.ReasonPhrase}{wait}", url, response.StatusCode, retryAfter);
        }
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: TimeSpan delta } => delta < TimeSpan.Zero ? TimeSpan.Zero : delta,
        { Date: DateTimeOffset date } => date > DateTimeOffset.UtcNow ? date - DateTimeOffset.UtcNow : TimeSpan.Zero,
        _ => null,
    };
}
