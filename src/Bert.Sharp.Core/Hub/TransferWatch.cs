using System.Diagnostics;

namespace Bert.Sharp.Hub;

/// <summary>
/// Bounds the reads of one file transfer: each read must bring bytes within the idle timeout, and every window of
/// that length must average at least the minimum speed — so a server that drips a byte a second, which an idle timeout
/// alone never catches, fails the attempt (to be resumed by a retry) instead of hanging the download for days.
/// </summary>
internal sealed class TransferWatch : IDisposable
{
    private readonly CancellationToken _attempt;
    private CancellationTokenSource _read;
    private readonly TimeSpan _idle;
    private readonly long _minimumBytesPerSecond;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _windowStart;
    private long _windowBytes;

    public TransferWatch(TimeSpan idle, long minimumBytesPerSecond, CancellationToken attempt)
    {
        _idle = idle;
        _minimumBytesPerSecond = idle == Timeout.InfiniteTimeSpan ? 0 : minimumBytesPerSecond;
        _attempt = attempt;
        _read = CancellationTokenSource.CreateLinkedTokenSource(attempt);
    }

    /// <summary>Reads the next chunk; throws <see cref="OperationCanceledException"/> when no byte came within the idle timeout.</summary>
    public async ValueTask<int> ReadAsync(Stream body, Memory<byte> buffer)
    {
        if (_read.IsCancellationRequested && !_attempt.IsCancellationRequested)
        {
            // The idle timer fired just as the previous read completed: that read was in time, start afresh.
            _read.Dispose();
            _read = CancellationTokenSource.CreateLinkedTokenSource(_attempt);
        }

        _read.CancelAfter(_idle);
        try
        {
            return await body.ReadAsync(buffer, _read.Token).ConfigureAwait(false);
        }
        finally
        {
            _read.CancelAfter(Timeout.InfiniteTimeSpan); // Writing to disk is not the server's time.
        }
    }

    /// <summary>
    /// Counts <paramref name="bytes"/> just received; returns why the transfer counts as stalled (too slow over the last
    /// window), or <c>null</c>.
    /// </summary>
    public string? Received(int bytes)
    {
        _windowBytes += bytes;
        TimeSpan elapsed = _clock.Elapsed - _windowStart;
        if (_minimumBytesPerSecond == 0 || elapsed < _idle)
        {
            return null;
        }

        double rate = _windowBytes / elapsed.TotalSeconds;
        _windowStart = _clock.Elapsed;
        _windowBytes = 0;
        return rate < _minimumBytesPerSecond
            ? $"the transfer stalled: {rate:N0} bytes per second over the last {elapsed.TotalSeconds:N1} s, below the minimum of " +
              $"{_minimumBytesPerSecond:N0} (HubClientOptions.MinimumBytesPerSecond)"
            : null;
    }

    public void Dispose() => _read.Dispose();
}
