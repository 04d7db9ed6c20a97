using Bert.Sharp.Hub;
using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Hub;

/// <summary>Configuration comes from the same environment variables, with the same precedence, as in Python.</summary>
public class HubSettingsTests
{
    private static HubSettings Resolve(Dictionary<string, string> env, HubClientOptions? options = null) =>
        HubSettings.Resolve((options ?? new HubClientOptions()) with { EnvironmentVariables = env.GetValueOrDefault });

    [Fact]
    public void Defaults_match_huggingface_hub()
    {
        HubSettings s = Resolve(new() { ["XDG_CACHE_HOME"] = "/x/cache" }, new HubClientOptions { UseStoredToken = false });
        Assert.Equal(new Uri("https://huggingface.co"), s.Endpoint);
        Assert.Equal(Path.GetFullPath("/x/cache/huggingface/hub"), s.CacheDirectory);
        Assert.False(s.Offline);
        Assert.Null(s.Token);

        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        Assert.Equal(Path.Combine(home, ".cache", "huggingface", "hub"), Resolve([], new HubClientOptions { UseStoredToken = false }).CacheDirectory);
    }

    [Fact]
    public void Environment_overrides_in_python_precedence()
    {
        Assert.Equal(Path.GetFullPath("/h/hub"), Resolve(new() { ["HF_HOME"] = "/h", ["XDG_CACHE_HOME"] = "/x" }).CacheDirectory);
        Assert.Equal(Path.GetFullPath("/c"), Resolve(new() { ["HF_HOME"] = "/h", ["HF_HUB_CACHE"] = "/c" }).CacheDirectory);
        Assert.Equal(Path.GetFullPath("/o"), Resolve(new() { ["HF_HUB_CACHE"] = "/c" }, new HubClientOptions { CacheDirectory = "/o" }).CacheDirectory);
        Assert.Equal(new Uri("http://mirror.local:8080"), Resolve(new() { ["HF_ENDPOINT"] = "http://mirror.local:8080/" }).Endpoint);
        Assert.Equal("hf_env", Resolve(new() { ["HF_TOKEN"] = "hf_env" }).Token);
        Assert.Equal("hf_opt", Resolve(new() { ["HF_TOKEN"] = "hf_env" }, new HubClientOptions { Token = "hf_opt" }).Token);
        Assert.Null(Resolve(new() { ["HF_TOKEN"] = "hf_env" }, new HubClientOptions { UseStoredToken = false }).Token);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("true", true)]
    [InlineData("YES", true)]
    [InlineData("on", true)]
    [InlineData("0", false)]
    [InlineData("", false)]
    [InlineData("false", false)]
    public void HF_HUB_OFFLINE_values(string value, bool offline)
    {
        Assert.Equal(offline, Resolve(new() { ["HF_HUB_OFFLINE"] = value }).Offline);
        Assert.False(Resolve(new() { ["HF_HUB_OFFLINE"] = value }, new HubClientOptions { Offline = false }).Offline);
    }

    [Fact]
    public void Token_file_written_by_hf_auth_login_is_read()
    {
        string home = TestTemp.NewDirectory("hf-home");
        try
        {
            File.WriteAllText(Path.Combine(home, "token"), "hf_from_file\n");
            Assert.Equal("hf_from_file", Resolve(new() { ["HF_HOME"] = home }).Token);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public void Bad_endpoint_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => Resolve([], new HubClientOptions { Endpoint = new Uri("ftp://x") }));
    }

    [Theory]
    [InlineData("bert-base-uncased")]
    [InlineData("google-bert/bert-base-uncased")]
    [InlineData("sentence-transformers/all-MiniLM-L6-v2")]
    [InlineData("a/b")]
    [InlineData("Org_1/model.v2")]
    public void Real_ids_are_valid(string repoId) => Assert.Null(HubNames.CheckRepoId(repoId));

    [Theory]
    [InlineData("W/\"abc\"", "abc")]
    [InlineData("\"abc\"", "abc")]
    [InlineData("abc", "abc")]
    public void Etags_are_normalised_like_python(string header, string etag) => Assert.Equal(etag, HubNames.NormalizeEtag(header));

    [Fact]
    public void Glob_matches_like_fnmatch()
    {
        Assert.True(HubNames.GlobMatch("*.json", "config.json"));
        Assert.True(HubNames.GlobMatch("*.json", "onnx/config.json"));
        Assert.False(HubNames.GlobMatch("*.json", "model.safetensors"));
        Assert.True(HubNames.GlobMatch("model-?.bin", "model-1.bin"));
        Assert.False(HubNames.GlobMatch("model.bin", "modelxbin"));
    }
}
