using System.Text;

namespace Bert.Sharp.Tests.Hub;

/// <summary>
/// Issue 10 item 6, "with a non-hash ETag an over-long body was cached and the next call returned the cut-off file
/// unverified": a file is committed only after verification, and every cache hit is checked before it is returned.
/// </summary>
public class HubCacheVerificationTests : HubTestBase
{
    private string VerifiedRecord(string etag) => Path.Combine(RepoFolder, ".bert-sharp", "verified", etag);

    [Fact(Timeout = Timeout)]
    public async Task Over_long_body_with_a_non_hash_etag_is_never_cached_nor_returned()
    {
        Repo.OpaqueEtags = true;
        byte[] other = Encoding.UTF8.GetBytes(new string('X', Config.Length + 100)); // Not the file the HEAD described.
        Hub.RegularFileBody = _ => other;
        string etag = FakeHub.OpaqueEtag(Config);
        string incomplete = Path.Combine(BlobsFolder, etag + ".incomplete");

        using (var client = new HubClient(Options()))
        {
            var first = await Assert.ThrowsAsync<HubException>(() => client.DownloadFileAsync(RepoId, "config.json"));
            Assert.Equal(HubErrorKind.Protocol, first.Kind);
            Assert.Contains("more than", first.Message, StringComparison.Ordinal);
            Assert.False(File.Exists(incomplete));

            // The defect: the cut-off prefix left behind had the announced size and was cached by the next call.
            var second = await Assert.ThrowsAsync<HubException>(() => client.DownloadFileAsync(RepoId, "config.json"));
            Assert.Equal(HubErrorKind.Protocol, second.Kind);
        }

        Assert.Empty(Blobs());
        Assert.False(File.Exists(Path.Combine(RepoFolder, "snapshots", Repo.MainCommit, "config.json")));

        Hub.Reset();
        using (var client = new HubClient(Options()))
        {
            string path = await client.DownloadFileAsync(RepoId, "config.json");
            Assert.Equal(Config, File.ReadAllBytes(path));
        }

        Assert.Equal([etag], Blobs());
        Assert.EndsWith(" size\n", File.ReadAllText(VerifiedRecord(etag)), StringComparison.Ordinal);
    }

    [Fact(Timeout = Timeout)]
    public async Task A_partial_file_without_a_content_hash_is_never_resumed()
    {
        Repo.OpaqueEtags = true;
        string etag = FakeHub.OpaqueEtag(Config);
        Directory.CreateDirectory(BlobsFolder);
        File.WriteAllBytes(Path.Combine(BlobsFolder, etag + ".incomplete"), new byte[Config.Length]); // Full size, wrong bytes.

        using var client = new HubClient(Options());
        string path = await client.DownloadFileAsync(RepoId, "config.json");

        Assert.Equal(Config, File.ReadAllBytes(path));
        Assert.DoesNotContain(Hub.Requests, r => r.Range is not null);
    }

    [Fact(Timeout = Timeout)]
    public async Task Every_download_is_recorded_as_verified_with_its_method()
    {
        string dir = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());

        Assert.EndsWith(" sha256\n", File.ReadAllText(VerifiedRecord(FakeHub.Sha256(Safetensors))), StringComparison.Ordinal);
        Assert.EndsWith(" git-sha1\n", File.ReadAllText(VerifiedRecord(FakeHub.GitSha1(Config))), StringComparison.Ordinal);
        Assert.StartsWith($"v1 {Safetensors.Length} ", File.ReadAllText(VerifiedRecord(FakeHub.Sha256(Safetensors))), StringComparison.Ordinal);
        Assert.Equal(["config.json", "model.safetensors", "vocab.txt"], Names(dir)); // The record folder is not in the snapshot.
    }

    [Fact(Timeout = Timeout)]
    public async Task Truncated_blob_is_refused_offline_with_a_clear_message()
    {
        await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());
        string blob = Path.Combine(BlobsFolder, FakeHub.Sha256(Safetensors));
        using (var stream = new FileStream(blob, FileMode.Open))
        {
            stream.SetLength(1234);
        }

        // Before: offline hits only checked that the file existed, and returned the truncated weights.
        var e = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve(offline: true)));
        Assert.Equal(HubErrorKind.OfflineNotCached, e.Kind);
        Assert.Contains("damaged", e.Message, StringComparison.Ordinal);
        Assert.Contains("1,234 bytes", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, Hub.CdnGets); // Only the first download: offline makes no request.
    }

    [Fact(Timeout = Timeout)]
    public async Task Same_size_tampering_of_a_verified_blob_is_caught_without_any_option()
    {
        await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());
        string blob = Path.Combine(BlobsFolder, FakeHub.Sha256(Safetensors));
        byte[] tampered = (byte[])Safetensors.Clone();
        tampered[10] ^= 1;
        File.WriteAllBytes(blob, tampered);
        File.SetLastWriteTimeUtc(blob, File.GetLastWriteTimeUtc(blob).AddSeconds(5)); // However fast the file system's clock.

        var offline = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve(offline: true)));
        Assert.Equal(HubErrorKind.OfflineNotCached, offline.Kind);
        Assert.Contains("sha256", offline.Message, StringComparison.Ordinal);

        string again = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());
        Assert.Equal(Safetensors, File.ReadAllBytes(Path.Combine(again, "model.safetensors")));
        Assert.Equal(2, Hub.CdnGets);
    }

    [Fact(Timeout = Timeout)]
    public async Task Touched_but_intact_blob_is_rehashed_once_and_kept()
    {
        await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());
        string blob = Path.Combine(BlobsFolder, FakeHub.Sha256(Safetensors));
        File.SetLastWriteTimeUtc(blob, DateTime.UtcNow.AddDays(-1)); // A backup tool restored it, say.

        string dir = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve(offline: true));

        Assert.Equal(Safetensors, File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
        Assert.StartsWith($"v1 {Safetensors.Length} {File.GetLastWriteTimeUtc(blob).Ticks} ", File.ReadAllText(VerifiedRecord(FakeHub.Sha256(Safetensors))),
            StringComparison.Ordinal);
    }

    [Fact(Timeout = Timeout)]
    public async Task A_blob_python_wrote_is_trusted_by_default_and_rehashed_once_when_asked()
    {
        string commit = FakeHub.NewCommit();
        string snapshot = Path.Combine(RepoFolder, "snapshots", commit);
        Directory.CreateDirectory(snapshot);
        Directory.CreateDirectory(BlobsFolder);
        Directory.CreateDirectory(Path.Combine(RepoFolder, "refs"));
        File.WriteAllText(Path.Combine(RepoFolder, "refs", "main"), commit);
        string etag = FakeHub.Sha256(Safetensors);
        byte[] corrupt = (byte[])Safetensors.Clone();
        corrupt[0] ^= 1;
        File.WriteAllBytes(Path.Combine(BlobsFolder, etag), corrupt);
        File.CreateSymbolicLink(Path.Combine(snapshot, "model.safetensors"), $"../../blobs/{etag}");

        using (var trusting = new HubClient(Options(offline: true)))
        {
            // As in Python: a blob nobody verified here is used as it is, unless asked.
            Assert.Equal(corrupt, File.ReadAllBytes(await trusting.DownloadFileAsync(RepoId, "model.safetensors")));
        }

        using (var verifying = new HubClient(Options(offline: true) with { VerifyCachedFiles = true }))
        {
            var e = await Assert.ThrowsAsync<HubException>(() => verifying.DownloadFileAsync(RepoId, "model.safetensors"));
            Assert.Equal(HubErrorKind.OfflineNotCached, e.Kind);
            Assert.Contains("damaged", e.Message, StringComparison.Ordinal);

            File.WriteAllBytes(Path.Combine(BlobsFolder, etag), Safetensors);
            Assert.Equal(Safetensors, File.ReadAllBytes(await verifying.DownloadFileAsync(RepoId, "model.safetensors")));
        }

        Assert.True(File.Exists(VerifiedRecord(etag))); // Verified once; later hits compare size and time only.
    }

    [Fact(Timeout = Timeout)]
    public async Task Rewritten_blob_without_a_content_hash_is_refused_and_downloaded_again()
    {
        Repo.OpaqueEtags = true;
        using var client = new HubClient(Options());
        string path = await client.DownloadFileAsync(RepoId, "vocab.txt");
        string blob = Path.Combine(BlobsFolder, FakeHub.OpaqueEtag(Vocab));
        byte[] edited = (byte[])Vocab.Clone();
        edited[0] = (byte)'#';
        File.WriteAllBytes(blob, edited);
        File.SetLastWriteTimeUtc(blob, File.GetLastWriteTimeUtc(blob).AddSeconds(5));

        Assert.Equal(path, await client.DownloadFileAsync(RepoId, "vocab.txt"));
        Assert.Equal(Vocab, File.ReadAllBytes(path));
    }
}
