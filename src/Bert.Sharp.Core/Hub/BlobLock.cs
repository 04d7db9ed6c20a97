using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Hub;

/// <summary>
/// An exclusive lock on a lock file (<c>{cache}/.locks/models--org--name/{etag}.lock</c>, the path huggingface_hub
/// uses). Opened with <see cref="FileShare.None"/>, which on Unix is an advisory <c>flock</c> — the same kind
/// Python's <c>filelock</c> takes, so .NET and Python processes exclude each other too. The lock file is never
/// deleted: deleting it would let two processes lock two different files of the same name.
/// </summary>
internal sealed class BlobLock : IDisposable
{
    private readonly FileStream _stream;

    private BlobLock(FileStream stream) => _stream = stream;

    public static async Task<BlobLock> AcquireAsync(string lockPath, string guardedPath, TimeSpan timeout, ILogger logger,
        string repoId, string fileName, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        var clock = Stopwatch.StartNew();
        TimeSpan delay = TimeSpan.FromMilliseconds(20);
        TimeSpan nextLog = TimeSpan.Zero;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                return new BlobLock(new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None));
            }
            catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
            {
                if (clock.Elapsed >= timeout)
                {
                    throw new HubException(HubErrorKind.LockTimeout,
                        $"Gave up waiting {timeout} for another download of '{fileName}' of '{repoId}' to finish: the lock file '{lockPath}' " +
                        "is still held. If no other process is downloading, remove the lock file and try again.",
                        repoId, fileName, innerException: e);
                }

                if (clock.Elapsed >= nextLog)
                {
                    HubLog.WaitingForLock(logger, guardedPath, lockPath);
                    nextLog = clock.Elapsed + TimeSpan.FromSeconds(10);
                }

                await Task.Delay(delay, ct).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 500));
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
