namespace Bert.Sharp.Tests.Hub;

/// <summary>Downloads land in the cache exactly as Python's huggingface_hub lays it out, and are reused from it.</summary>
public class HubDownloadTests : HubTestBase
{
    [Fact(Timeout = Timeout)]
    public async Task Resolve_downloads_standard_files_into_python_cache_layout()
    {
        var progress = new ProgressLog();
        string dir = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve(progress: progress));

        string commit = Repo.MainCommit;
        Assert.Equal(Path.Combine(RepoFolder, "snapshots", commit), dir);
        Assert.Equal(commit, File.ReadAllText(Path.Combine(RepoFolder, "refs", "main")));

        // Safetensors preferred; README and the .bin are not fetched.
        Assert.Equal(["config.json", "model.safetensors", "vocab.txt"], Names(dir));

        string[] expectedBlobs = [FakeHub.GitSha1(Config), FakeHub.GitSha1(Vocab), FakeHub.Sha256(Safetensors)];
        Assert.Equal(expectedBlobs.Order(StringComparer.Ordinal).ToArray(), Blobs());

        AssertPointer(dir, "config.json", FakeHub.GitSha1(Config), Config);
        AssertPointer(dir, "vocab.txt", FakeHub.GitSha1(Vocab), Vocab);
        AssertPointer(dir, "model.safetensors", FakeHub.Sha256(Safetensors), Safetensors);

        Assert.Empty(Directory.GetFiles(CacheDir, "*.incomplete", SearchOption.AllDirectories));
        Assert.True(File.Exists(Path.Combine(CacheDir, ".locks", "models--acme--tiny-bert", FakeHub.Sha256(Safetensors) + ".lock")));

        HubDownloadProgress last = progress.Reports.Last(p => p.FileName == "model.safetensors");
        Assert.Equal(Safetensors.Length, last.BytesDownloaded);
        Assert.Equal(Safetensors.Length, last.TotalBytes);
        Assert.True(last.IsComplete);
    }

    [Fact(Timeout = Timeout)]
    public async Task Falls_back_to_pytorch_model_bin_when_there_is_no_safetensors()
    {
        Repo.Files.Remove("model.safetensors");
        string dir = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());
        Assert.Equal(PyTorchBin, File.ReadAllBytes(Path.Combine(dir, "pytorch_model.bin")));
        Assert.False(File.Exists(Path.Combine(dir, "model.safetensors")));
    }

    [Fact(Timeout = Timeout)]
    public async Task Second_download_is_served_from_the_cache()
    {
        await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());
        int cdnGets = Hub.CdnGets;
        int resolveGets = Hub.Requests.Count(r => r.Method == "GET" && r.Target.Contains("/resolve/", StringComparison.Ordinal));

        string again = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());

        Assert.Equal(cdnGets, Hub.CdnGets);
        Assert.Equal(resolveGets, Hub.Requests.Count(r => r.Method == "GET" && r.Target.Contains("/resolve/", StringComparison.Ordinal)));
        Assert.Equal(Safetensors, File.ReadAllBytes(Path.Combine(again, "model.safetensors")));
    }

    [Fact(Timeout = Timeout)]
    public async Task Offline_hit_makes_no_request()
    {
        string online = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());
        int before = Hub.RequestCount;

        string offline = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve(offline: true));

        Assert.Equal(online, offline);
        Assert.Equal(before, Hub.RequestCount);
    }

    [Fact(Timeout = Timeout)]
    public async Task HF_HUB_OFFLINE_environment_variable_turns_offline_mode_on()
    {
        await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());
        int before = Hub.RequestCount;
        var env = new Dictionary<string, string> { ["HF_HUB_OFFLINE"] = "1", ["HF_HUB_CACHE"] = CacheDir, ["HF_ENDPOINT"] = Hub.Endpoint.ToString() };
        var options = new HubClientOptions { EnvironmentVariables = env.GetValueOrDefault, UseStoredToken = false };

        using var client = new HubClient(options);
        Assert.True(client.IsOffline);
        string path = await client.DownloadFileAsync(RepoId, "config.json");

        Assert.Equal(Config, File.ReadAllBytes(path));
        Assert.Equal(before, Hub.RequestCount);
    }

    [Fact(Timeout = Timeout)]
    public async Task Offline_miss_is_a_clear_error_without_requests()
    {
        var e = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve(offline: true)));

        Assert.Equal(HubErrorKind.OfflineNotCached, e.Kind);
        Assert.Contains(RepoId, e.Message, StringComparison.Ordinal);
        Assert.Contains("offline", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("not in the cache", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, Hub.RequestCount);
    }

    [Fact(Timeout = Timeout)]
    public async Task Offline_with_a_partial_snapshot_is_a_miss()
    {
        using (var client = new HubClient(Options()))
        {
            await client.DownloadFileAsync(RepoId, "config.json"); // Only the config, as Python's AutoConfig would leave it.
        }

        var e = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve(offline: true)));
        Assert.Equal(HubErrorKind.OfflineNotCached, e.Kind);
        Assert.Contains("model.safetensors or pytorch_model.bin", e.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = Timeout)]
    public async Task Unreachable_hub_falls_back_to_the_cache_or_says_not_cached()
    {
        var unreachable = new Uri("http://127.0.0.1:1"); // Nothing listens on port 1.
        var missing = await Assert.ThrowsAsync<HubException>(() =>
            PretrainedResolver.ResolveDirectoryAsync(RepoId, new() { Hub = Options() with { Endpoint = unreachable } }));
        Assert.Equal(HubErrorKind.OfflineNotCached, missing.Kind);
        Assert.Contains("could not be reached", missing.Message, StringComparison.Ordinal);

        string online = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());
        string fallback = await PretrainedResolver.ResolveDirectoryAsync(RepoId, new() { Hub = Options() with { Endpoint = unreachable } });
        Assert.Equal(online, fallback);
    }

    [Fact(Timeout = Timeout)]
    public async Task A_cache_written_by_python_is_used_offline()
    {
        // Lay out the cache by hand exactly as huggingface_hub does (what `hf download` leaves behind).
        string commit = FakeHub.NewCommit();
        string snapshot = Path.Combine(RepoFolder, "snapshots", commit);
        Directory.CreateDirectory(snapshot);
        Directory.CreateDirectory(BlobsFolder);
        Directory.CreateDirectory(Path.Combine(RepoFolder, "refs"));
        File.WriteAllText(Path.Combine(RepoFolder, "refs", "main"), commit);
        foreach ((string name, byte[] content, string etag) in new[]
        {
            ("config.json", Config, FakeHub.GitSha1(Config)),
            ("model.safetensors", Safetensors, FakeHub.Sha256(Safetensors)),
        })
        {
            File.WriteAllBytes(Path.Combine(BlobsFolder, etag), content);
            File.CreateSymbolicLink(Path.Combine(snapshot, name), $"../../blobs/{etag}");
        }

        string dir = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve(offline: true) with
        {
            Hub = Options(offline: true) with { VerifyCachedFiles = true },
        });

        Assert.Equal(snapshot, dir);
        Assert.Equal(0, Hub.RequestCount);
    }

    [Fact(Timeout = Timeout)]
    public async Task Download_model_with_patterns_and_a_subfolder_file()
    {
        byte[] onnx = FakeHub.RandomBytes(50_000, seed: 3);
        Repo.Files["onnx/model.onnx"] = new FakeHub.RepoFile(onnx, Lfs: false);

        using var client = new HubClient(Options());
        string dir = await client.DownloadModelAsync(RepoId, fileNames: ["*.json", "onnx/model.onnx"]);

        Assert.Equal(["config.json"], Names(dir));
        string pointer = Path.Combine(dir, "onnx", "model.onnx");
        Assert.Equal($"../../../blobs/{FakeHub.GitSha1(onnx)}", new FileInfo(pointer).LinkTarget);
        Assert.Equal(onnx, File.ReadAllBytes(pointer));
    }

    [Fact(Timeout = Timeout)]
    public async Task Download_model_with_null_patterns_fetches_every_file()
    {
        using var client = new HubClient(Options());
        string dir = await client.DownloadModelAsync(RepoId);
        Assert.Equal(["README.md", "config.json", "model.safetensors", "pytorch_model.bin", "vocab.txt"],
            Names(dir));
    }

    [Fact(Timeout = Timeout)]
    public async Task Download_file_at_a_commit_writes_no_ref_and_weak_etags_are_normalised()
    {
        Repo.WeakEtags = true;
        using var client = new HubClient(Options());
        string path = await client.DownloadFileAsync(RepoId, "vocab.txt", revision: Repo.MainCommit);

        Assert.Equal(Path.Combine(RepoFolder, "snapshots", Repo.MainCommit, "vocab.txt"), path);
        Assert.Equal([FakeHub.GitSha1(Vocab)], Blobs());
        Assert.False(Directory.Exists(Path.Combine(RepoFolder, "refs")));
    }

    [Fact(Timeout = Timeout)]
    public async Task Pinned_commit_already_cached_needs_no_request()
    {
        using var client = new HubClient(Options());
        string dir = await client.DownloadModelAsync(RepoId, fileNames: ["config.json", "model.safetensors"]);
        int before = Hub.RequestCount;

        Assert.Equal(dir, await client.DownloadModelAsync(RepoId, Repo.MainCommit, ["config.json", "model.safetensors"]));
        Assert.Equal(Path.Combine(dir, "config.json"), await client.DownloadFileAsync(RepoId, "config.json", Repo.MainCommit));
        Assert.Equal(before, Hub.RequestCount);

        // A file of that commit not yet cached is fetched.
        Assert.Equal(Vocab, File.ReadAllBytes(await client.DownloadFileAsync(RepoId, "vocab.txt", Repo.MainCommit)));
        Assert.True(Hub.RequestCount > before);
    }

    [Fact(Timeout = Timeout)]
    public async Task Renamed_repository_redirect_is_followed_and_cached_under_the_requested_id()
    {
        Hub.Rename("acme/old-name", RepoId);
        string dir = await PretrainedResolver.ResolveDirectoryAsync("acme/old-name", Resolve());

        Assert.StartsWith(Path.Combine(CacheDir, "models--acme--old-name", "snapshots"), dir, StringComparison.Ordinal);
        Assert.Equal(Safetensors, File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
    }

    [Fact]
    public void Existing_local_directory_is_returned_without_any_request()
    {
        string dir = Path.Combine(CacheDir, "local-model");
        Directory.CreateDirectory(dir);
        Assert.Equal(dir, PretrainedResolver.ResolveDirectory(dir, Resolve()));
        Assert.Equal(0, Hub.RequestCount);
    }

    [Fact(Timeout = Timeout)]
    public async Task Sync_resolver_downloads_too()
    {
        string dir = await Task.Run(() => PretrainedResolver.ResolveDirectory(RepoId, Resolve()));
        Assert.True(File.Exists(Path.Combine(dir, "config.json")));
    }

    private void AssertPointer(string dir, string name, string etag, byte[] content)
    {
        var info = new FileInfo(Path.Combine(dir, name));
        Assert.Equal($"../../blobs/{etag}", info.LinkTarget);
        Assert.Equal(content, File.ReadAllBytes(info.FullName));
        Assert.Equal(content, File.ReadAllBytes(Path.Combine(BlobsFolder, etag)));
    }
}
