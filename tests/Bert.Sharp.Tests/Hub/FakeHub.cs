using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Bert.Sharp.Tests.Hub;

/// <summary>
/// A loopback server that behaves like the Hugging Face Hub as huggingface_hub sees it: the model metadata API,
/// <c>resolve</c> with X-Repo-Commit / ETag / X-Linked-Etag / X-Linked-Size, a 302 to a "CDN" on another port for
/// LFS files, Range requests, X-Error-Code errors, relative redirects for renamed repositories — plus faults
/// (dropped connections, lying lengths, corrupt bodies, slowness). Raw sockets, one request per connection.
/// </summary>
internal sealed partial class FakeHub : IAsyncDisposable
{
    private readonly TcpListener _hub = new(IPAddress.Loopback, 0);
    private readonly TcpListener _cdn = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _hubLoop;
    private readonly Task _cdnLoop;
    private readonly ConcurrentDictionary<string, Repo> _repos = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new(StringComparer.Ordinal);

    public FakeHub()
    {
        _hub.Start();
        _cdn.Start();
        _hubLoop = AcceptLoop(_hub, isCdn: false);
        _cdnLoop = AcceptLoop(_cdn, isCdn: true);
    }

    public Uri Endpoint => new($"http://127.0.0.1:{((IPEndPoint)_hub.LocalEndpoint).Port}");

    private string CdnBase => $"http://127.0.0.1:{((IPEndPoint)_cdn.LocalEndpoint).Port}";

    public ConcurrentQueue<Request> Requests { get; } = new();

    public int RequestCount => Requests.Count;

    public int CdnGets => Requests.Count(r => r.IsCdn && r.Method == "GET");

    // ---- repositories

    public Repo AddRepo(string repoId, params (string Name, byte[] Content, bool Lfs)[] files)
    {
        var repo = new Repo(repoId, NewCommit());
        foreach ((string name, byte[] content, bool lfs) in files)
        {
            repo.Files[name] = new RepoFile(content, lfs);
            if (lfs)
            {
                _blobs[Sha256(content)] = content;
            }
        }

        _repos[repoId] = repo;
        return repo;
    }

    public void Rename(string oldId, string newId) => _repos[oldId] = _repos[newId] with { RenamedTo = newId };

    public static string NewCommit() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

    public static string Sha256(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>The git blob id, which the Hub sends as the ETag of a regular (non-LFS) file.</summary>
    public static string GitSha1(byte[] content)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        hash.AppendData(Encoding.ASCII.GetBytes($"blob {content.Length}\0"));
        hash.AppendData(content);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    // ---- server

    private async Task AcceptLoop(TcpListener listener, bool isCdn)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        await HandleAsync(client, isCdn);
                    }
                    catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
                    {
                        // The client went away; nothing to do.
                    }
                }
            });
        }
    }

    private async Task HandleAsync(TcpClient client, bool isCdn)
    {
        NetworkStream stream = client.GetStream();
        string head = await ReadHeadAsync(stream);
        string[] lines = head.Split("\r\n");
        string[] requestLine = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
        }

        var request = new Request(requestLine[0], requestLine[1], isCdn, headers.GetValueOrDefault("Authorization"), headers.GetValueOrDefault("Range"));
        Requests.Enqueue(request);
        if (!isCdn && TakeHubFailure() is (int failStatus, var retryAfter))
        {
            await WriteAsync(stream, failStatus, retryAfter is null ? [] : [("Retry-After", retryAfter)], null, request.Method);
            return;
        }

        if (isCdn)
        {
            await ServeCdnAsync(client, stream, request);
            return;
        }

        string path = request.Target.Split('?')[0];
        if (path.StartsWith("/api/models/", StringComparison.Ordinal))
        {
            await ServeApiAsync(stream, request, path["/api/models/".Length..]);
        }
        else if (path.IndexOf("/resolve/", StringComparison.Ordinal) is int at and > 0)
        {
            await ServeResolveAsync(stream, request, path[1..at], path[(at + "/resolve/".Length)..]);
        }
        else
        {
            await WriteAsync(stream, 404, [], null, request.Method);
        }
    }

    private async Task ServeApiAsync(NetworkStream stream, Request request, string rest)
    {
        int at = rest.IndexOf("/revision/", StringComparison.Ordinal);
        string repoId = rest[..at];
        string revision = Uri.UnescapeDataString(rest[(at + "/revision/".Length)..]);
        if (!_repos.TryGetValue(repoId, out Repo? repo) || (repo.Private && !Authorized(request)))
        {
            await WriteErrorAsync(stream, 401, "RepoNotFound", request);
            return;
        }

        if (repo.RenamedTo is string newId)
        {
            await WriteAsync(stream, 307, [("Location", $"/api/models/{newId}/revision/{Uri.EscapeDataString(revision)}")], null, request.Method);
            return;
        }

        string? commit = repo.Commit(revision);
        if (commit is null)
        {
            await WriteErrorAsync(stream, 404, "RevisionNotFound", request);
            return;
        }

        var json = new
        {
            id = repoId,
            sha = commit,
            siblings = repo.Files.Keys.Concat(ExtraSiblings).Select(f => new { rfilename = f }).ToArray(),
        };
        await WriteApiAsync(stream, JsonSerializer.SerializeToUtf8Bytes(json), request.Method);
    }

    private async Task ServeResolveAsync(NetworkStream stream, Request request, string repoId, string rest)
    {
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        string revision = Uri.UnescapeDataString(rest[..slash]);
        string fileName = string.Join('/', rest[(slash + 1)..].Split('/').Select(Uri.UnescapeDataString));
        if (!_repos.TryGetValue(repoId, out Repo? repo) || (repo.Private && !Authorized(request)))
        {
            await WriteErrorAsync(stream, 401, "RepoNotFound", request);
            return;
        }

        if (repo.RenamedTo is string newId)
        {
            await WriteAsync(stream, 307, [("Location", $"/{newId}/resolve/{rest}")], null, request.Method);
            return;
        }

        if (repo.Gated && !Authorized(request))
        {
            await WriteErrorAsync(stream, request.Authorization is null ? 401 : 403, "GatedRepo", request);
            return;
        }

        string? commit = repo.Commit(revision);
        if (commit is null)
        {
            await WriteErrorAsync(stream, 404, "RevisionNotFound", request);
            return;
        }

        if (!repo.Files.TryGetValue(fileName, out RepoFile? file))
        {
            await WriteErrorAsync(stream, 404, "EntryNotFound", request);
            return;
        }

        if (file.Lfs)
        {
            string sha = Sha256(file.Content);
            await WriteAsync(stream, 302,
            [
                ("Location", $"{CdnBase}/cdn/{sha}?signature=abc"),
                ("X-Repo-Commit", commit),
                ("ETag", $"\"{GitSha1(Encoding.ASCII.GetBytes("pointer " + sha))}\""),
                ("X-Linked-Etag", $"\"{LieEtag ?? sha}\""),
                ("X-Linked-Size", (LieLinkedSize ?? file.Content.Length).ToString(CultureInfo.InvariantCulture)),
            ], null, request.Method);
            return;
        }

        string etag = repo.OpaqueEtags ? OpaqueEtag(file.Content) : GitSha1(file.Content);
        await WriteRegularFileAsync(stream,
        [
            ("X-Repo-Commit", commit),
            ("ETag", repo.WeakEtags ? $"W/\"{etag}\"" : $"\"{etag}\""),
        ], file.Content, request.Method);
    }

    private async Task ServeCdnAsync(TcpClient client, NetworkStream stream, Request request)
    {
        string sha = request.Target.Split('?')[0]["/cdn/".Length..];
        if (!_blobs.TryGetValue(sha, out byte[]? content))
        {
            await WriteAsync(stream, 404, [], null, request.Method);
            return;
        }

        if (CorruptBodies)
        {
            content = (byte[])content.Clone();
            content[content.Length / 2] ^= 0xFF;
        }

        long from = 0;
        if (request.Range is string range && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            from = long.Parse(range["bytes=".Length..^1], CultureInfo.InvariantCulture);
            if (from >= content.Length)
            {
                await WriteAsync(stream, 416, [("Content-Range", $"bytes */{content.Length}")], null, request.Method);
                return;
            }
        }

        byte[] body = content[(int)from..];
        var headers = new List<(string, string)>();
        int status = 200;
        if (from > 0)
        {
            status = 206;
            headers.Add(("Content-Range", $"bytes {from}-{content.Length - 1}/{content.Length}"));
        }

        bool drop = Interlocked.Decrement(ref _dropsRemaining) >= 0;
        if (CloseDelimitedExtraBytes is int extra)
        {
            body = extra >= 0 ? [.. body, .. new byte[extra]] : body[..Math.Max(0, body.Length + extra)];
            await WriteHeadAsync(stream, status, headers, contentLength: null);
        }
        else
        {
            await WriteHeadAsync(stream, status, headers, LieContentLength ?? body.Length);
        }

        int limit = drop ? Math.Min(DropAfterBytes, body.Length) : body.Length;
        if (CdnDripInterval > TimeSpan.Zero)
        {
            await DripAsync(stream, body.AsMemory(0, limit), CdnDripInterval);
            limit = 0;
        }

        for (int offset = 0; offset < limit; offset += 4096)
        {
            await stream.WriteAsync(body.AsMemory(offset, Math.Min(4096, limit - offset)));
            if (ChunkDelay > TimeSpan.Zero)
            {
                await Task.Delay(ChunkDelay);
            }
        }

        await stream.FlushAsync();
        if (drop)
        {
            client.Client.LingerState = new LingerOption(true, 0); // Reset, as a dropped connection looks.
        }
    }

    private bool Authorized(Request request) => ValidToken is not null && request.Authorization == $"Bearer {ValidToken}";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _hub.Stop();
        _cdn.Stop();
        await Task.WhenAll(_hubLoop, _cdnLoop);
        _stop.Dispose();
    }

    internal sealed record Request(string Method, string Target, bool IsCdn, string? Authorization, string? Range);

    internal sealed record RepoFile(byte[] Content, bool Lfs);

    internal sealed record Repo(string Id, string MainCommit)
    {
        public Dictionary<string, RepoFile> Files { get; init; } = new(StringComparer.Ordinal);

        public Dictionary<string, string> Branches { get; init; } = new(StringComparer.Ordinal);

        public bool Private { get; set; }

        public bool Gated { get; set; }

        public bool WeakEtags { get; set; }

        /// <summary>Regular files get ETags that are not content hashes (as some mirrors send).</summary>
        public bool OpaqueEtags { get; set; }

        public string? RenamedTo { get; init; }

        public string? Commit(string revision) =>
            revision == "main" || revision == MainCommit ? MainCommit : Branches.GetValueOrDefault(revision);
    }
}
