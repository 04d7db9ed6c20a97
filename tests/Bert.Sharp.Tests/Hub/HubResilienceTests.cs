namespace Bert.Sharp.Tests.Hub;

/// <summary>Broken transfers, lying servers and hand-modified caches never leave a corrupt cache entry.</summary>
public class HubResilienceTests : HubTestBase
{
    [Fact(Timeout = Timeout)]
    public async Task Dropped_connection_is_resumed_with_a_range_request()
    {
        Hub.DropConnections(afterBytes: 100_000, times: 1);
        string dir = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());

        Assert.Equal(Safetensors, File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
        FakeHub.Request resumed = Assert.Single(Hub.Requests, r => r.IsCdn && r.Range is not null);
        Assert.Equal("bytes=100000-", resumed.Range);
        Assert.Empty(Directory.GetFiles(CacheDir, "*.incomplete", SearchOption.AllDirectories));
    }

    [Fact(Timeout = Timeout)]
    public async Task Transfer_failing_every_time_keeps_the_partial_file_and_the_next_call_resumes()
    {
        Hub.DropConnections(afterBytes: 40_000, times: 100);
        var options = Options() with { MaxRetries = 2 };
        using (var client = new HubClient(options))
        {
            var e = await Assert.ThrowsAsync<HubException>(() => client.DownloadFileAsync(RepoId, "model.safetensors"));
            Assert.Equal(HubErrorKind.Network, e.Kind);
            Assert.Contains("model.safetensors", e.Message, StringComparison.Ordinal);
            Assert.Contains(RepoId, e.Message, StringComparison.Ordinal);
            Assert.Contains("resumes", e.Message, StringComparison.Ordinal);
        }

        string incomplete = Path.Combine(BlobsFolder, FakeHub.Sha256(Safetensors) + ".incomplete");
        Assert.True(new FileInfo(incomplete).Length >= 40_000);
        Assert.DoesNotContain(FakeHub.Sha256(Safetensors), Blobs());
        Assert.False(Directory.Exists(Path.Combine(RepoFolder, "snapshots", Repo.MainCommit)) &&
            File.Exists(Path.Combine(RepoFolder, "snapshots", Repo.MainCommit, "model.safetensors")));

        Hub.Reset();
        using (var client = new HubClient(options))
        {
            string path = await client.DownloadFileAsync(RepoId, "model.safetensors");
            Assert.Equal(Safetensors, File.ReadAllBytes(path));
        }

        Assert.Contains(Hub.Requests, r => r.IsCdn && r.Range == "bytes=120000-");
        Assert.False(File.Exists(incomplete));
    }

    [Fact(Timeout = Timeout)]
    public async Task Corrupt_body_fails_the_sha256_check_and_leaves_nothing_behind()
    {
        Hub.CorruptBodies = true;
        var e = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve()));

        Assert.Equal(HubErrorKind.Integrity, e.Kind);
        Assert.Equal("model.safetensors", e.FileName);
        Assert.Contains("sha256", e.Message, StringComparison.Ordinal);
        Assert.Contains(RepoId, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeHub.Sha256(Safetensors), Blobs());
        Assert.DoesNotContain(Blobs(), b => b.EndsWith(".incomplete", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(RepoFolder, "snapshots", Repo.MainCommit, "model.safetensors")));
        Assert.False(File.Exists(Path.Combine(RepoFolder, "refs", "main")));
    }

    [Fact(Timeout = Timeout)]
    public async Task Bad_partial_file_from_an_earlier_run_is_discarded_and_downloaded_again()
    {
        Directory.CreateDirectory(BlobsFolder);
        string incomplete = Path.Combine(BlobsFolder, FakeHub.Sha256(Safetensors) + ".incomplete");
        File.WriteAllBytes(incomplete, new byte[1000]); // Garbage a crashed process might have left.

        string dir = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());

        Assert.Equal(Safetensors, File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
        Assert.Contains(Hub.Requests, r => r.IsCdn && r.Range == "bytes=1000-");
        Assert.Contains(Hub.Requests, r => r.IsCdn && r.Range is null);
    }

    [Fact(Timeout = Timeout)]
    public async Task Lying_content_length_is_refused()
    {
        Hub.LieContentLength = Safetensors.Length + 1_000_000L;
        var e = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve()));

        Assert.Equal(HubErrorKind.Protocol, e.Kind);
        Assert.Contains("Content-Length", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeHub.Sha256(Safetensors), Blobs());
    }

    [Fact(Timeout = Timeout)]
    public async Task Body_longer_than_announced_is_never_written_past_the_size()
    {
        Hub.CloseDelimitedExtraBytes = 500_000;
        var e = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve()));

        Assert.Equal(HubErrorKind.Protocol, e.Kind);
        Assert.Contains("more than", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeHub.Sha256(Safetensors), Blobs());
        string incomplete = Path.Combine(BlobsFolder, FakeHub.Sha256(Safetensors) + ".incomplete");
        Assert.True(!File.Exists(incomplete) || new FileInfo(incomplete).Length <= Safetensors.Length);
    }

    [Fact(Timeout = Timeout)]
    public async Task Truncated_body_without_length_is_retried_then_reported()
    {
        Hub.CloseDelimitedExtraBytes = -1000;
        var e = await Assert.ThrowsAsync<HubException>(() =>
            PretrainedResolver.ResolveDirectoryAsync(RepoId, new() { Hub = Options() with { MaxRetries = 1 } }));

        Assert.Equal(HubErrorKind.Network, e.Kind);
        Assert.Contains("ended after", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeHub.Sha256(Safetensors), Blobs());
    }

    [Fact(Timeout = Timeout)]
    public async Task Huge_announced_size_is_refused_before_downloading()
    {
        Hub.LieLinkedSize = 1L << 60;
        var e = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve()));

        Assert.Equal(HubErrorKind.InsufficientDiskSpace, e.Kind);
        Assert.Contains("disk space", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, Hub.CdnGets);
    }

    [Fact(Timeout = Timeout)]
    public async Task Hostile_etag_is_refused()
    {
        Hub.LieEtag = "../../../../tmp/evil";
        var e = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve()));

        Assert.Equal(HubErrorKind.Protocol, e.Kind);
        Assert.Contains("ETag", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, Hub.CdnGets);
    }

    [Fact(Timeout = Timeout)]
    public async Task Hostile_file_names_listed_by_the_server_are_skipped()
    {
        Hub.ExtraSiblings.Add("../../../escape.txt");
        Hub.ExtraSiblings.Add("/etc/passwd");
        using var client = new HubClient(Options());
        IReadOnlyList<string> files = (await client.ListFilesAsync(RepoId)).Files;

        Assert.DoesNotContain(files, f => f.Contains("..", StringComparison.Ordinal) || f.StartsWith('/'));
        Assert.Contains("config.json", files);
    }

    [Fact(Timeout = Timeout)]
    public async Task Truncated_blob_in_the_cache_is_detected_and_downloaded_again()
    {
        string dir = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());
        string blob = Path.Combine(BlobsFolder, FakeHub.Sha256(Safetensors));
        using (var stream = new FileStream(blob, FileMode.Open))
        {
            stream.SetLength(1234); // Modified by hand.
        }

        int cdnGets = Hub.CdnGets;
        string again = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());

        Assert.Equal(dir, again);
        Assert.Equal(cdnGets + 1, Hub.CdnGets);
        Assert.Equal(Safetensors, File.ReadAllBytes(Path.Combine(again, "model.safetensors")));
    }

    [Fact(Timeout = Timeout)]
    public async Task Same_size_tampering_is_caught_when_verification_is_on()
    {
        string dir = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());
        string blob = Path.Combine(BlobsFolder, FakeHub.Sha256(Safetensors));
        byte[] tampered = (byte[])Safetensors.Clone();
        tampered[10] ^= 1;
        File.WriteAllBytes(blob, tampered);

        // Offline with verification: the damaged entry counts as missing.
        var e = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId,
            new() { Hub = Options(offline: true) with { VerifyCachedFiles = true } }));
        Assert.Equal(HubErrorKind.OfflineNotCached, e.Kind);

        // Online with verification: downloaded again.
        string again = await PretrainedResolver.ResolveDirectoryAsync(RepoId, new() { Hub = Options() with { VerifyCachedFiles = true } });
        Assert.Equal(Safetensors, File.ReadAllBytes(Path.Combine(again, "model.safetensors")));
    }

    [Fact(Timeout = Timeout)]
    public async Task Deleted_blob_makes_a_dangling_link_that_counts_as_missing()
    {
        await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());
        File.Delete(Path.Combine(BlobsFolder, FakeHub.Sha256(Safetensors)));

        var e = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve(offline: true)));
        Assert.Equal(HubErrorKind.OfflineNotCached, e.Kind);

        string dir = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());
        Assert.Equal(Safetensors, File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
    }

    [Fact(Timeout = Timeout)]
    public async Task Snapshot_file_replaced_by_hand_is_relinked()
    {
        string dir = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());
        string pointer = Path.Combine(dir, "config.json");
        File.Delete(pointer);
        File.WriteAllText(pointer, "{\"edited\": true}");

        await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());

        Assert.Equal($"../../blobs/{FakeHub.GitSha1(Config)}", new FileInfo(pointer).LinkTarget);
        Assert.Equal(Config, File.ReadAllBytes(pointer));
    }

    [Fact(Timeout = Timeout)]
    public async Task Garbage_ref_is_ignored_offline()
    {
        await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());
        File.WriteAllText(Path.Combine(RepoFolder, "refs", "main"), "../../../../etc");

        var e = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve(offline: true)));
        Assert.Equal(HubErrorKind.OfflineNotCached, e.Kind);
    }

    [Fact(Timeout = Timeout)]
    public async Task Cancellation_keeps_the_partial_file_for_later()
    {
        Hub.ChunkDelay = TimeSpan.FromMilliseconds(20);
        using var cts = new CancellationTokenSource();
        var progress = new CancelAfterBytes(cts, 20_000);
        using (var client = new HubClient(Options()))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                client.DownloadFileAsync(RepoId, "model.safetensors", progress: progress, cancellationToken: cts.Token));
        }

        Assert.DoesNotContain(FakeHub.Sha256(Safetensors), Blobs());
        Hub.Reset();
        using (var client = new HubClient(Options()))
        {
            string path = await client.DownloadFileAsync(RepoId, "model.safetensors");
            Assert.Equal(Safetensors, File.ReadAllBytes(path));
        }

        Assert.Contains(Hub.Requests, r => r.IsCdn && r.Range is not null);
    }

    private sealed class CancelAfterBytes(CancellationTokenSource cts, long bytes) : IProgress<HubDownloadProgress>
    {
        public void Report(HubDownloadProgress value)
        {
            if (value.BytesDownloaded >= bytes)
            {
                cts.Cancel();
            }
        }
    }
}
