namespace Bert.Sharp.Hub;

/// <summary>
/// The state of one public call of <see cref="HubClient"/>: the token that ends it (the caller's, linked with the overall
/// deadline) and the request under way, so that a deadline that strikes anywhere — mid-transfer, in a back-off, waiting
/// for a lock — can name the URL it interrupted.
/// </summary>
internal sealed class HubCallScope(string repoId, CancellationToken token)
{
    private Uri? _url;
    private string? _fileName;

    public string RepoId { get; } = repoId;

    /// <summary>Cancelled when the caller cancels or the overall deadline passes; distinguishes those from per-attempt timeouts.</summary>
    public CancellationToken Token { get; } = token;

    public Uri? CurrentUrl => Volatile.Read(ref _url);

    public string? CurrentFile => Volatile.Read(ref _fileName);

    public void Requesting(Uri url) => Volatile.Write(ref _url, url);

    public void Working(string? fileName) => Volatile.Write(ref _fileName, fileName);

    /// <summary>
    /// True when <paramref name="e"/> is a network failure of the current attempt (connection error, I/O error, or a
    /// cancellation by an attempt timeout) rather than the caller cancelling or the deadline passing.
    /// </summary>
    public bool IsAttemptFailure(Exception e) =>
        !Token.IsCancellationRequested && e is HttpRequestException { StatusCode: null } or IOException or OperationCanceledException;
}
