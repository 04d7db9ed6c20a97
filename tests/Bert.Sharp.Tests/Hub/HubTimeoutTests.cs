namespace Bert.Sharp.Tests.Hub;

/// <summary>
/// Issue 10 item 6, "a slow drip never times out": a server that sends a byte now and then fails the call with a
/// <see cref="HubErrorKind.Timeout"/> naming the URL, within the configured time, and keeps what arrived for a resume.
/// </summary>
public class HubTimeoutTests : HubTestBase
{
    [Fact(Timeout = Timeout)]
    public async Task Dripping_metadata_times_out_per_attempt_and_names_the_url()
    {
        Hub.ApiDripInterval = TimeSpan.FromMilliseconds(20);
        var options = Options() with { RequestTimeout = TimeSpan.FromMilliseconds(300), MaxRetries = 1 };

        var e = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, new() { Hub = options }));

        Assert.Equal(HubErrorKind.Timeout, e.Kind);
        Assert.Contains("/api/models/acme/tiny-bert/revision/main", e.Url!.ToString(), StringComparison.Ordinal);
        Assert.Contains(e.Url.ToString(), e.Message, StringComparison.Ordinal);
        Assert.Contains("RequestTimeout", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, Hub.Requests.Count(r => r.Target.StartsWith("/api/", StringComparison.Ordinal)));
    }

    [Fact(Timeout = Timeout)]
    public async Task Dripping_file_body_is_a_stalled_transfer_resumed_then_a_timeout()
    {
        // About 100 bytes per second; the idle timeout alone never fires. It is long (3 s) because on a loaded 2-core CI
        // machine the fake server's 10 ms drip once paused past a 300 ms idle timeout, and later past 1.5 s (a fresh-clone
        // run of 2026-12-08), which then (rightly) fired first. The speed check's window is the same length.
        Hub.CdnDripInterval = TimeSpan.FromMilliseconds(10);
        var options = Options() with { ReadTimeout = TimeSpan.FromSeconds(3), MinimumBytesPerSecond = 1024, MaxRetries = 1 };
        using var client = new HubClient(options);

        var e = await Assert.ThrowsAsync<HubException>(() => client.DownloadFileAsync(RepoId, "model.safetensors"));

        Assert.Equal(HubErrorKind.Timeout, e.Kind);
        Assert.Equal("model.safetensors", e.FileName);
        Assert.StartsWith("/cdn/", e.Url!.AbsolutePath, StringComparison.Ordinal);
        Assert.Contains(e.Url.ToString(), e.Message, StringComparison.Ordinal);
        Assert.Contains("stalled", e.Message, StringComparison.Ordinal);
        Assert.Contains("MinimumBytesPerSecond", e.Message, StringComparison.Ordinal);

        // The second attempt resumed what the first one kept; the dripped bytes stay for the next call.
        Assert.Contains(Hub.Requests, r => r.IsCdn && r.Range is not null);
        string incomplete = Path.Combine(BlobsFolder, FakeHub.Sha256(Safetensors) + ".incomplete");
        Assert.True(new FileInfo(incomplete).Length > 0);
        Assert.DoesNotContain(FakeHub.Sha256(Safetensors), Blobs());
    }

    [Fact(Timeout = Timeout)]
    public async Task Overall_deadline_ends_a_drip_the_speed_check_is_off_for()
    {
        Hub.CdnDripInterval = TimeSpan.FromMilliseconds(10);
        var options = Options() with { MinimumBytesPerSecond = 0, OverallTimeout = TimeSpan.FromSeconds(1) };

        var e = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, new() { Hub = options }));

        Assert.Equal(HubErrorKind.Timeout, e.Kind);
        Assert.Equal("model.safetensors", e.FileName);
        Assert.StartsWith("/cdn/", e.Url!.AbsolutePath, StringComparison.Ordinal);
        Assert.Contains("OverallTimeout", e.Message, StringComparison.Ordinal);
        Assert.Contains(e.Url.ToString(), e.Message, StringComparison.Ordinal);

        // What arrived is kept and resumed once the server behaves.
        Hub.Reset();
        string dir = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());
        Assert.Equal(Safetensors, File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
        Assert.Contains(Hub.Requests, r => r.IsCdn && r.Range is not null);
    }

    [Fact(Timeout = Timeout)]
    public async Task Overall_deadline_applies_to_the_synchronous_resolver_too()
    {
        Hub.ApiDripInterval = TimeSpan.FromMilliseconds(50);
        var options = Options() with { OverallTimeout = TimeSpan.FromMilliseconds(500) };

        var e = await Task.Run(() => Assert.Throws<HubException>(() =>
            PretrainedResolver.ResolveDirectory(RepoId, new PretrainedResolveOptions { Hub = options })));

        Assert.Equal(HubErrorKind.Timeout, e.Kind);
        Assert.Contains("/api/models/", e.Url!.ToString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = Timeout)]
    public async Task Caller_cancellation_stays_a_cancellation()
    {
        Hub.ApiDripInterval = TimeSpan.FromMilliseconds(50);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            PretrainedResolver.ResolveDirectoryAsync(RepoId, Options() with { OverallTimeout = TimeSpan.FromMinutes(5) }, null, cts.Token));
    }
}
