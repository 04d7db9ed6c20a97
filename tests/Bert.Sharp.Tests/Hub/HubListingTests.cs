namespace Bert.Sharp.Tests.Hub;

/// <summary>
/// Issue 10 item 6: metadata over the size cap is refused even when chunked (it was read whole: chunked 1 GB took
/// 3.2 GB of memory), and a listing with both <c>x</c> and <c>x/y</c> is refused before anything is written (it
/// aborted with a raw IOException half-way).
/// </summary>
public class HubListingTests : HubTestBase
{
    [Fact(Timeout = Timeout)]
    public async Task Endless_chunked_metadata_is_refused_at_the_default_64_MB_cap()
    {
        Hub.ApiChunkedPadding = long.MaxValue;
        using var client = new HubClient(Options());

        var e = await Assert.ThrowsAsync<HubException>(() => client.ListFilesAsync(RepoId));

        Assert.Equal(HubErrorKind.Protocol, e.Kind);
        Assert.Contains("67,108,864-byte limit", e.Message, StringComparison.Ordinal);
        Assert.Contains("MaxMetadataBytes", e.Message, StringComparison.Ordinal);
        Assert.Contains(e.Url!.ToString(), e.Message, StringComparison.Ordinal);
        Assert.Equal(1, Hub.RequestCount); // Not retried: it is the server's answer, not a network failure.
        // The client stopped reading at the cap: the server could only push what the socket buffers hold beyond it.
        Assert.True(Hub.ApiBytesSent < (64L << 20) + (32L << 20), $"{Hub.ApiBytesSent:N0} bytes were sent");
    }

    [Fact(Timeout = Timeout)]
    public async Task Chunked_metadata_over_a_configured_cap_is_refused()
    {
        Hub.ApiChunkedPadding = 3 << 20;
        var e = await Assert.ThrowsAsync<HubException>(() =>
            PretrainedResolver.ResolveDirectoryAsync(RepoId, new() { Hub = Options() with { MaxMetadataBytes = 1 << 20 } }));

        Assert.Equal(HubErrorKind.Protocol, e.Kind);
        Assert.Contains("1,048,576-byte limit", e.Message, StringComparison.Ordinal);
        Assert.Equal(RepoId, e.RepoId);
        Assert.Equal(0, Hub.CdnGets);
    }

    [Fact(Timeout = Timeout)]
    public async Task Chunked_metadata_under_the_cap_is_read()
    {
        Hub.ApiChunkedPadding = 200_000;
        using var client = new HubClient(Options());
        HubRepositoryFiles files = await client.ListFilesAsync(RepoId);
        Assert.Equal(Repo.MainCommit, files.Commit);
        Assert.Contains("model.safetensors", files.Files);
    }

    [Fact(Timeout = Timeout)]
    public async Task Announced_oversized_metadata_is_refused_before_reading()
    {
        Hub.ApiAnnouncedPadding = 10L << 30;
        using var client = new HubClient(Options());
        var e = await Assert.ThrowsAsync<HubException>(() => client.ListFilesAsync(RepoId));
        Assert.Equal(HubErrorKind.Protocol, e.Kind);
        Assert.Contains("announces", e.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = Timeout)]
    public async Task Listing_with_a_file_and_a_folder_of_the_same_name_is_refused_before_writing()
    {
        Repo.Files["onnx"] = new FakeHub.RepoFile(FakeHub.RandomBytes(100, seed: 5), Lfs: false);
        Repo.Files["onnx/model.onnx"] = new FakeHub.RepoFile(FakeHub.RandomBytes(100, seed: 6), Lfs: false);
        using var client = new HubClient(Options());

        var e = await Assert.ThrowsAsync<HubException>(() => client.DownloadModelAsync(RepoId));

        Assert.Equal(HubErrorKind.Protocol, e.Kind);
        Assert.Contains("'onnx'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'onnx/model.onnx'", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(RepoFolder)); // Nothing written: no blob, no snapshot, no ref.
        await Assert.ThrowsAsync<HubException>(() => client.ListFilesAsync(RepoId));
    }

    [Fact(Timeout = Timeout)]
    public async Task File_where_a_cached_folder_is_and_the_reverse_are_refused_by_name()
    {
        Repo.Files["onnx"] = new FakeHub.RepoFile(FakeHub.RandomBytes(100, seed: 5), Lfs: false);
        Repo.Files["onnx/model.onnx"] = new FakeHub.RepoFile(FakeHub.RandomBytes(100, seed: 6), Lfs: false);
        using var client = new HubClient(Options());
        await client.DownloadFileAsync(RepoId, "onnx");
        int blobs = Blobs().Length;

        var e = await Assert.ThrowsAsync<HubException>(() => client.DownloadFileAsync(RepoId, "onnx/model.onnx"));
        Assert.Equal(HubErrorKind.Protocol, e.Kind);
        Assert.Contains("'onnx/model.onnx'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'onnx'", e.Message, StringComparison.Ordinal);
        Assert.Equal(blobs, Blobs().Length); // Refused before downloading.
        Assert.Equal(0, Hub.Requests.Count(r => r.Method == "GET" && r.Target.EndsWith("/onnx/model.onnx", StringComparison.Ordinal)));
    }

    [Fact(Timeout = Timeout)]
    public async Task Folder_where_a_file_should_go_is_refused_by_name()
    {
        Repo.Files["onnx"] = new FakeHub.RepoFile(FakeHub.RandomBytes(100, seed: 5), Lfs: false);
        Repo.Files["onnx/model.onnx"] = new FakeHub.RepoFile(FakeHub.RandomBytes(100, seed: 6), Lfs: false);
        using var client = new HubClient(Options());
        await client.DownloadFileAsync(RepoId, "onnx/model.onnx");

        var e = await Assert.ThrowsAsync<HubException>(() => client.DownloadFileAsync(RepoId, "onnx"));
        Assert.Equal(HubErrorKind.Protocol, e.Kind);
        Assert.Contains("both 'onnx' and 'onnx/model.onnx'", e.Message, StringComparison.Ordinal);
    }
}
