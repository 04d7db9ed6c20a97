namespace Bert.Sharp.Tests.Hub;

/// <summary>Bad ids never reach the network; Hub refusals become messages that say what to do.</summary>
public class HubErrorTests : HubTestBase
{
    [Theory]
    [InlineData("../etc")]
    [InlineData("acme/../../etc")]
    [InlineData("acme/..")]
    [InlineData("a/b/c")]
    [InlineData("acme/")]
    [InlineData("/acme")]
    [InlineData("-acme/bert")]
    [InlineData("acme/bert.")]
    [InlineData("acme--x/bert")]
    [InlineData("acme/bert base")]
    [InlineData("acme\\bert")]
    [InlineData("acme/bert%2F..")]
    [InlineData("acme/bert.git")]
    public async Task Invalid_ids_are_rejected_before_any_request(string repoId)
    {
        using var client = new HubClient(Options());
        var e = await Assert.ThrowsAsync<ArgumentException>(() => client.DownloadModelAsync(repoId));
        Assert.Contains(repoId, e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => client.DownloadFileAsync(repoId, "config.json"));
        Assert.Equal(0, Hub.RequestCount);
    }

    [Fact]
    public async Task Overlong_name_is_rejected()
    {
        using var client = new HubClient(Options());
        await Assert.ThrowsAsync<ArgumentException>(() => client.DownloadModelAsync("acme/" + new string('a', 97)));
        Assert.Equal(0, Hub.RequestCount);
    }

    [Theory]
    [InlineData("../config.json")]
    [InlineData("/etc/passwd")]
    [InlineData("onnx/../../x")]
    [InlineData("a\\b")]
    [InlineData("c:x")]
    [InlineData("")]
    public async Task Invalid_file_names_are_rejected_before_any_request(string fileName)
    {
        using var client = new HubClient(Options());
        await Assert.ThrowsAsync<ArgumentException>(() => client.DownloadFileAsync(RepoId, fileName));
        await Assert.ThrowsAsync<ArgumentException>(() => client.DownloadModelAsync(RepoId, fileNames: [fileName]));
        Assert.Equal(0, Hub.RequestCount);
    }

    [Theory]
    [InlineData("../main")]
    [InlineData("refs/../../x")]
    [InlineData("/main")]
    [InlineData("main/")]
    [InlineData(".hidden")]
    [InlineData("a b")]
    public async Task Invalid_revisions_are_rejected_before_any_request(string revision)
    {
        using var client = new HubClient(Options());
        await Assert.ThrowsAsync<ArgumentException>(() => client.DownloadModelAsync(RepoId, revision));
        Assert.Equal(0, Hub.RequestCount);
    }

    [Theory]
    [InlineData("../nowhere/model")]
    [InlineData("./missing-dir")]
    [InlineData("/definitely/not/here")]
    public void Resolver_treats_path_like_arguments_as_missing_directories(string argument)
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => PretrainedResolver.ResolveDirectory(argument, Resolve()));
        Assert.Contains(argument, e.Message, StringComparison.Ordinal);
        Assert.Equal(0, Hub.RequestCount);
    }

    [Fact]
    public void Resolver_rejects_a_file_path()
    {
        string file = Path.Combine(CacheDir, "config.json");
        File.WriteAllText(file, "{}");
        Assert.Throws<ArgumentException>(() => PretrainedResolver.ResolveDirectory(file, Resolve()));
    }

    [Fact(Timeout = Timeout)]
    public async Task Unknown_repository_says_not_found_and_suggests_a_token()
    {
        var e = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync("acme/nope", Resolve()));

        Assert.Equal(HubErrorKind.RepositoryNotFound, e.Kind);
        Assert.Equal("acme/nope", e.RepoId);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, e.StatusCode);
        Assert.NotNull(e.Url);
        Assert.Contains("'acme/nope' was not found", e.Message, StringComparison.Ordinal);
        Assert.Contains("HF_TOKEN", e.Message, StringComparison.Ordinal);
        Assert.Contains("401", e.Message, StringComparison.Ordinal);
        Assert.Contains(e.Url!.ToString(), e.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = Timeout)]
    public async Task Private_repository_works_with_a_token()
    {
        Repo.Private = true;
        Hub.ValidToken = "hf_secret";
        var e = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve()));
        Assert.Equal(HubErrorKind.RepositoryNotFound, e.Kind);

        string dir = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve(token: "hf_secret"));
        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")));
    }

    [Fact(Timeout = Timeout)]
    public async Task Gated_repository_says_gated_and_how_to_get_access()
    {
        Repo.Gated = true;
        Hub.ValidToken = "hf_granted";

        var anonymous = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve()));
        Assert.Equal(HubErrorKind.GatedRepository, anonymous.Kind);
        Assert.Contains("gated", anonymous.Message, StringComparison.Ordinal);
        Assert.Contains("HF_TOKEN", anonymous.Message, StringComparison.Ordinal);
        Assert.Contains("No token was sent", anonymous.Message, StringComparison.Ordinal);
        Assert.Equal("config.json", anonymous.FileName);

        var denied = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve(token: "hf_other")));
        Assert.Equal(HubErrorKind.GatedRepository, denied.Kind);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, denied.StatusCode);

        string dir = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve(token: "hf_granted"));
        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")));
    }

    [Fact(Timeout = Timeout)]
    public async Task Token_goes_to_the_hub_but_never_to_the_cdn()
    {
        Hub.ValidToken = "hf_secret";
        await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve(token: "hf_secret"));

        Assert.All(Hub.Requests.Where(r => !r.IsCdn), r => Assert.Equal("Bearer hf_secret", r.Authorization));
        Assert.All(Hub.Requests.Where(r => r.IsCdn), r => Assert.Null(r.Authorization));
        Assert.Contains(Hub.Requests, r => r.IsCdn);
    }

    [Fact(Timeout = Timeout)]
    public async Task Unknown_revision_says_so()
    {
        var e = await Assert.ThrowsAsync<HubException>(() =>
            PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve() with { Revision = "v9" }));
        Assert.Equal(HubErrorKind.RevisionNotFound, e.Kind);
        Assert.Contains("'v9'", e.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = Timeout)]
    public async Task Missing_file_says_entry_not_found()
    {
        using var client = new HubClient(Options());
        var e = await Assert.ThrowsAsync<HubException>(() => client.DownloadFileAsync(RepoId, "tokenizer.json"));
        Assert.Equal(HubErrorKind.EntryNotFound, e.Kind);
        Assert.Equal("tokenizer.json", e.FileName);
        Assert.Contains("404", e.Message, StringComparison.Ordinal);

        var listed = await Assert.ThrowsAsync<HubException>(() => client.DownloadModelAsync(RepoId, fileNames: ["tokenizer.json"]));
        Assert.Equal(HubErrorKind.EntryNotFound, listed.Kind);
    }

    [Fact(Timeout = Timeout)]
    public async Task Repository_without_weights_is_explained()
    {
        Repo.Files.Remove("model.safetensors");
        Repo.Files.Remove("pytorch_model.bin");
        var e = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve()));
        Assert.Equal(HubErrorKind.EntryNotFound, e.Kind);
        Assert.Contains("neither model.safetensors nor pytorch_model.bin", e.Message, StringComparison.Ordinal);
    }
}
