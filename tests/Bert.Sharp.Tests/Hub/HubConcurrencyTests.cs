using System.Diagnostics;

namespace Bert.Sharp.Tests.Hub;

/// <summary>Several clients, or processes, fetching the same model share one download and one correct blob.</summary>
public class HubConcurrencyTests : HubTestBase
{
    [Fact(Timeout = Timeout)]
    public async Task Independent_clients_downloading_the_same_model_leave_one_correct_blob()
    {
        Hub.ChunkDelay = TimeSpan.FromMilliseconds(3); // ~75 chunks: the downloads overlap.
        using var first = new HubClient(Options());
        using var second = new HubClient(Options());
        using var third = new HubClient(Options());

        string[] dirs = await Task.WhenAll(
            Task.Run(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve())),
            Task.Run(() => first.DownloadModelAsync(RepoId, fileNames: ["config.json", "vocab.txt", "model.safetensors"])),
            Task.Run(() => second.DownloadModelAsync(RepoId, fileNames: ["config.json", "vocab.txt", "model.safetensors"])),
            Task.Run(() => third.DownloadFileAsync(RepoId, "model.safetensors")));

        Assert.Equal(dirs[0], dirs[1]);
        Assert.Equal(dirs[0], dirs[2]);
        Assert.Equal(Path.Combine(dirs[0], "model.safetensors"), dirs[3]);
        Assert.Equal(1, Hub.CdnGets); // One transfer; the others waited on the lock and found the blob.
        Assert.Equal(Safetensors, File.ReadAllBytes(Path.Combine(BlobsFolder, FakeHub.Sha256(Safetensors))));
        Assert.Equal(new[] { FakeHub.GitSha1(Config), FakeHub.GitSha1(Vocab), FakeHub.Sha256(Safetensors) }.Order(StringComparer.Ordinal).ToArray(), Blobs());
        Assert.Empty(Directory.GetFiles(CacheDir, "*.incomplete", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(CacheDir, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact(Timeout = Timeout)]
    public async Task Lock_held_by_another_process_is_waited_for()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/flock"))
        {
            return; // flock(1) stands in for another process (Python's filelock takes the same flock).
        }

        string lockPath = Path.Combine(CacheDir, ".locks", "models--acme--tiny-bert", FakeHub.Sha256(Safetensors) + ".lock");
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        using var holder = Process.Start(new ProcessStartInfo("/usr/bin/flock", ["-x", lockPath, "-c", "echo locked; sleep 1"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        Assert.Equal("locked", await holder.StandardOutput.ReadLineAsync());

        var clock = Stopwatch.StartNew();
        using var client = new HubClient(Options());
        string path = await client.DownloadFileAsync(RepoId, "model.safetensors");

        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(600), $"finished after {clock.Elapsed} while the lock was held");
        await holder.WaitForExitAsync();
        Assert.Equal(Safetensors, File.ReadAllBytes(path));
    }

    [Fact(Timeout = Timeout)]
    public async Task Lock_timeout_is_a_clear_error()
    {
        string lockPath = Path.Combine(CacheDir, ".locks", "models--acme--tiny-bert", FakeHub.Sha256(Safetensors) + ".lock");
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        using var held = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);

        using var client = new HubClient(Options() with { LockTimeout = TimeSpan.FromMilliseconds(300) });
        var e = await Assert.ThrowsAsync<HubException>(() => client.DownloadFileAsync(RepoId, "model.safetensors"));

        Assert.Equal(HubErrorKind.LockTimeout, e.Kind);
        Assert.Contains(lockPath, e.Message, StringComparison.Ordinal);
        Assert.Equal(0, Hub.CdnGets);
    }
}
