using Bert.Sharp.Hub;

namespace Bert.Sharp.Tests.Hub;

/// <summary>
/// Issue 10 item 6, "validation regexes use $": ids, revisions and file names are matched whole (a trailing newline is
/// not a match), and traversal in any spelling is refused before any request.
/// </summary>
public class HubValidationTests : HubTestBase
{
    [Theory]
    [InlineData("org/model\n")]
    [InlineData("acme/tiny-bert\n")]
    [InlineData("tiny-bert\n")]
    [InlineData("acme\n/tiny-bert")]
    [InlineData("acme/%2e%2e")]
    [InlineData("%2e%2e/x")]
    [InlineData("acme//x")]
    [InlineData("..\\x")]
    [InlineData("/acme/x")]
    public async Task Ids_are_matched_whole(string repoId)
    {
        Assert.NotNull(HubNames.CheckRepoId(repoId));
        using var client = new HubClient(Options());
        await Assert.ThrowsAsync<ArgumentException>(() => client.DownloadModelAsync(repoId));
        await Assert.ThrowsAsync<ArgumentException>(() => client.ListFilesAsync(repoId));
        Assert.Equal(0, Hub.RequestCount);
    }

    [Fact]
    public void Resolver_refuses_an_id_with_a_trailing_newline()
    {
        Assert.Throws<ArgumentException>(() => PretrainedResolver.ResolveDirectory(RepoId + "\n", Resolve()));
        Assert.Equal(0, Hub.RequestCount);
    }

    [Theory]
    [InlineData("main\n")]
    [InlineData("v1.0\n")]
    [InlineData("%2e%2e")]
    [InlineData("..\\main")]
    [InlineData("refs//pr")]
    [InlineData("refs/pr/")]
    [InlineData("main.lock")]
    public async Task Revisions_are_matched_whole(string revision)
    {
        using var client = new HubClient(Options());
        await Assert.ThrowsAsync<ArgumentException>(() => client.DownloadModelAsync(RepoId, revision));
        await Assert.ThrowsAsync<ArgumentException>(() => client.DownloadFileAsync(RepoId, "config.json", revision));
        await Assert.ThrowsAsync<ArgumentException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve() with { Revision = revision }));
        Assert.Equal(0, Hub.RequestCount);
    }

    [Fact]
    public async Task A_commit_hash_with_a_trailing_newline_is_not_a_commit()
    {
        string commit = Repo.MainCommit + "\n";
        Assert.False(HubNames.IsCommitHash(commit));
        using var client = new HubClient(Options());
        await Assert.ThrowsAsync<ArgumentException>(() => client.DownloadFileAsync(RepoId, "config.json", commit));
        Assert.Equal(0, Hub.RequestCount);
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("..\\x")]
    [InlineData("a/../../x")]
    [InlineData("/etc/passwd")]
    [InlineData("C:\\x")]
    [InlineData("%2e%2e/x")]
    [InlineData("a/%2E%2e/b")]
    [InlineData("a/.%2e/b")]
    [InlineData("%252e%252e/x")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("config.json\n")]
    public async Task File_names_are_matched_whole_and_cannot_climb_out(string fileName)
    {
        Assert.NotNull(HubNames.CheckFileName(fileName));
        using var client = new HubClient(Options());
        await Assert.ThrowsAsync<ArgumentException>(() => client.DownloadFileAsync(RepoId, fileName));
        await Assert.ThrowsAsync<ArgumentException>(() => client.DownloadModelAsync(RepoId, fileNames: [fileName]));
        Assert.Equal(0, Hub.RequestCount);
    }

    [Fact]
    public void Hashes_and_etags_are_matched_whole()
    {
        string sha256 = FakeHub.Sha256(Config);
        Assert.True(HubNames.IsSha256(sha256));
        Assert.False(HubNames.IsSha256(sha256 + "\n"));
        Assert.False(HubNames.IsSha1(FakeHub.GitSha1(Config) + "\n"));
        Assert.False(HubNames.IsSafeEtag("abc\n"));
        Assert.True(HubNames.IsSafeEtag("abc"));
        Assert.True(HubNames.GlobMatch("*.json", "config.json"));
        Assert.False(HubNames.GlobMatch("*.json", "config.json\n"));
        Assert.False(HubNames.GlobMatch("config.json", "config.json\n"));
    }

    [Fact(Timeout = Timeout)]
    public async Task A_listed_name_ending_in_a_newline_is_skipped()
    {
        Hub.ExtraSiblings.Add("config.json\n");
        Hub.ExtraSiblings.Add("%2e%2e/escape");
        using var client = new HubClient(Options());
        IReadOnlyList<string> files = (await client.ListFilesAsync(RepoId)).Files;
        Assert.DoesNotContain("config.json\n", files);
        Assert.DoesNotContain("%2e%2e/escape", files);
        Assert.Single(files, "config.json");
    }
}
