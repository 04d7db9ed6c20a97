using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Bert.Sharp.Tests.Hub;

/// <summary>
/// The fake Hub's faults: CDN downloads that drop, lie about their length, corrupt or drip; resolve answers that lie
/// about size or ETag; Hub answers that are busy, drip, or are oversized; bodies that differ from their HEAD.
/// </summary>
internal sealed partial class FakeHub
{
    private readonly ConcurrentQueue<(int Status, string? RetryAfter)> _hubFailures = new();
    private int _dropsRemaining;
    private long _apiBytesSent;

    // ---- CDN downloads and resolve answers

    /// <summary>The next <paramref name="times"/> CDN GETs send only this many body bytes, then reset the connection.</summary>
    public void DropConnections(int afterBytes, int times)
    {
        DropAfterBytes = afterBytes;
        Volatile.Write(ref _dropsRemaining, times);
    }

    public int DropAfterBytes { get; set; }

    /// <summary>Content-Length the CDN announces instead of the truth.</summary>
    public long? LieContentLength { get; set; }

    /// <summary>Send the CDN body without Content-Length (close-delimited), plus this many extra bytes (negative: fewer).</summary>
    public int? CloseDelimitedExtraBytes { get; set; }

    /// <summary>Flip one byte of every CDN body.</summary>
    public bool CorruptBodies { get; set; }

    /// <summary>X-Linked-Size the resolve HEAD announces instead of the truth.</summary>
    public long? LieLinkedSize { get; set; }

    /// <summary>ETag the resolve HEAD announces for LFS files instead of the truth (hostile server).</summary>
    public string? LieEtag { get; set; }

    /// <summary>Pause between 4 KB chunks of a CDN body.</summary>
    public TimeSpan ChunkDelay { get; set; }

    /// <summary>Extra names listed in the metadata's siblings (hostile server).</summary>
    public List<string> ExtraSiblings { get; } = [];

    /// <summary>Accepted token; requests with another token are treated as unauthenticated.</summary>
    public string? ValidToken { get; set; }

    public void Reset()
    {
        DropAfterBytes = 0;
        Volatile.Write(ref _dropsRemaining, 0);
        LieContentLength = null;
        CloseDelimitedExtraBytes = null;
        CorruptBodies = false;
        LieLinkedSize = null;
        LieEtag = null;
        ChunkDelay = TimeSpan.Zero;
        ResetFaults();
    }

    // ---- the Hub's own answers

    /// <summary>Send the CDN body one byte at a time, this long apart.</summary>
    public TimeSpan CdnDripInterval { get; set; }

    /// <summary>Send the metadata JSON one byte at a time, this long apart.</summary>
    public TimeSpan ApiDripInterval { get; set; }

    /// <summary>Send the metadata chunked (no Content-Length), preceded by this many bytes of JSON whitespace; <c>long.MaxValue</c> never ends.</summary>
    public long? ApiChunkedPadding { get; set; }

    /// <summary>Announce a Content-Length this much larger than the metadata JSON (a client that does not refuse it would wait for the rest).</summary>
    public long? ApiAnnouncedPadding { get; set; }

    /// <summary>Metadata bytes sent so far (padding included).</summary>
    public long ApiBytesSent => Interlocked.Read(ref _apiBytesSent);

    /// <summary>What a GET of a regular (non-LFS) file sends instead of the file, without Content-Length; its HEAD stays truthful.</summary>
    public Func<byte[], byte[]>? RegularFileBody { get; set; }

    /// <summary>The next Hub (not CDN) requests are answered with these statuses, in order, with an optional Retry-After; status 0 serves one normally.</summary>
    public void FailHubRequests(params (int Status, string? RetryAfter)[] answers)
    {
        foreach ((int Status, string? RetryAfter) answer in answers)
        {
            _hubFailures.Enqueue(answer);
        }
    }

    /// <summary>An ETag that is not a content hash, stable for a content.</summary>
    public static string OpaqueEtag(byte[] content) => "mirror-" + Convert.ToHexStringLower(SHA256.HashData(content))[..12];

    private void ResetFaults()
    {
        _hubFailures.Clear();
        CdnDripInterval = TimeSpan.Zero;
        ApiDripInterval = TimeSpan.Zero;
        ApiChunkedPadding = null;
        ApiAnnouncedPadding = null;
        RegularFileBody = null;
    }

    private (int Status, string? RetryAfter)? TakeHubFailure() =>
        _hubFailures.TryDequeue(out var answer) && answer.Status != 0 ? answer : null;

    private async Task WriteApiAsync(NetworkStream stream, byte[] json, string method)
    {
        if (ApiChunkedPadding is long padding)
        {
            await WriteHeadAsync(stream, 200, [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")], contentLength: null);
            byte[] spaces = Encoding.ASCII.GetBytes(new string(' ', 1 << 16));
            for (long sent = 0; sent < padding; sent += spaces.Length)
            {
                await WriteChunkAsync(stream, spaces.AsMemory(0, (int)Math.Min(spaces.Length, padding - sent)));
            }

            await WriteChunkAsync(stream, json);
            await stream.WriteAsync("0\r\n\r\n"u8.ToArray());
            return;
        }

        if (ApiAnnouncedPadding is long announced)
        {
            await WriteHeadAsync(stream, 200, [("Content-Type", "application/json")], announced + json.Length);
            await stream.WriteAsync(json);
            return;
        }

        if (ApiDripInterval > TimeSpan.Zero)
        {
            await WriteHeadAsync(stream, 200, [("Content-Type", "application/json")], json.Length);
            await DripAsync(stream, json, ApiDripInterval);
            return;
        }

        await WriteAsync(stream, 200, [("Content-Type", "application/json")], json, method);
    }

    private async Task WriteChunkAsync(NetworkStream stream, ReadOnlyMemory<byte> data)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(data.Length.ToString("x", CultureInfo.InvariantCulture) + "\r\n"));
        await stream.WriteAsync(data);
        await stream.WriteAsync("\r\n"u8.ToArray());
        Interlocked.Add(ref _apiBytesSent, data.Length);
    }

    private async Task WriteRegularFileAsync(NetworkStream stream, IReadOnlyList<(string, string)> headers, byte[] content, string method)
    {
        if (method == "GET" && RegularFileBody is { } replace)
        {
            await WriteHeadAsync(stream, 200, headers, contentLength: null);
            await stream.WriteAsync(replace(content));
            await stream.FlushAsync();
            return;
        }

        await WriteAsync(stream, 200, headers, content, method);
    }

    private static async Task DripAsync(NetworkStream stream, ReadOnlyMemory<byte> body, TimeSpan interval)
    {
        for (int i = 0; i < body.Length; i++)
        {
            await stream.WriteAsync(body.Slice(i, 1));
            await stream.FlushAsync();
            await Task.Delay(interval);
        }
    }
}
