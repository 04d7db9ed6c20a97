using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Tests.Hub;

/// <summary>The retry pipeline: which answers are retried, how long it waits, when it gives up.</summary>
public class HubRetryPolicyTests : HubTestBase
{
    private int ApiRequests => Hub.Requests.Count(r => r.Target.StartsWith("/api/", StringComparison.Ordinal));

    [Fact(Timeout = Timeout)]
    public async Task Busy_answers_are_retried_and_retry_after_is_honoured()
    {
        Hub.FailHubRequests((503, "1"), (429, null));
        var logger = new ListLogger();

        string dir = await PretrainedResolver.ResolveDirectoryAsync(RepoId, new() { Hub = Options() with { Logger = logger } });

        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")));
        Assert.Equal(3, ApiRequests);
        var retries = logger.Entries.Where(x => x.Fields.ContainsKey("DelayMs")).ToList();
        Assert.Equal(2, retries.Count);
        Assert.Equal(1000L, retries[0].Fields["DelayMs"]); // Retry-After: 1, not the 5 ms back-off.
        Assert.All(retries, r => Assert.Equal(LogLevel.Warning, r.Level));
        Assert.Contains("HTTP 503", retries[0].Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = Timeout)]
    public async Task Retry_after_longer_than_the_maximum_delay_is_not_waited_for()
    {
        Hub.FailHubRequests((429, "3600"));
        var options = Options() with { MaxRetryDelay = TimeSpan.FromSeconds(10) };

        var e = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, new() { Hub = options }));

        Assert.Equal(HubErrorKind.Network, e.Kind);
        Assert.Equal(System.Net.HttpStatusCode.TooManyRequests, e.StatusCode);
        Assert.Contains("asked to retry after 01:00:00", e.Message, StringComparison.Ordinal);
        Assert.Contains("MaxRetryDelay", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, ApiRequests);
    }

    [Theory(Timeout = Timeout)]
    [InlineData(400)]
    [InlineData(405)]
    [InlineData(410)]
    public async Task Client_errors_other_than_408_and_429_are_not_retried(int status)
    {
        Hub.FailHubRequests((status, null));

        var e = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve()));

        Assert.Equal(HubErrorKind.Other, e.Kind);
        Assert.Equal(status, (int)e.StatusCode!);
        Assert.Contains(RepoId, e.Message, StringComparison.Ordinal);
        Assert.Equal(1, ApiRequests);
    }

    [Fact(Timeout = Timeout)]
    public async Task Request_timeout_status_408_is_retried()
    {
        Hub.FailHubRequests((408, null));
        string dir = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());
        Assert.True(File.Exists(Path.Combine(dir, "config.json")));
        Assert.Equal(2, ApiRequests);
    }

    [Fact(Timeout = Timeout)]
    public async Task Server_errors_on_every_attempt_give_up_after_max_retries()
    {
        Hub.FailHubRequests((500, null), (502, null), (503, null), (504, null));
        var options = Options() with { MaxRetries = 2 };

        var e = await Assert.ThrowsAsync<HubException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, new() { Hub = options }));

        Assert.Equal(HubErrorKind.Network, e.Kind);
        Assert.Contains("3 attempts failed", e.Message, StringComparison.Ordinal);
        Assert.Contains("HTTP 503", e.Message, StringComparison.Ordinal);
        Assert.Equal(3, ApiRequests);
    }

    [Fact(Timeout = Timeout)]
    public async Task A_failing_file_header_request_mid_download_is_retried()
    {
        Hub.FailHubRequests((0, null), (502, null)); // The file list passes; the first file's HEAD gets a 502.
        using var client = new HubClient(Options());

        string dir = await client.DownloadModelAsync(RepoId, fileNames: ["config.json"]);

        Assert.Equal(Config, File.ReadAllBytes(Path.Combine(dir, "config.json")));
        Assert.Equal(2, Hub.Requests.Count(r => r.Method == "HEAD"));
    }

    [Fact]
    public void Out_of_range_settings_are_refused_with_their_name()
    {
        Assert.Contains("RequestTimeout", Assert.Throws<ArgumentException>(() => new HubClient(Options() with { RequestTimeout = TimeSpan.Zero })).Message,
            StringComparison.Ordinal);
        Assert.Contains("ReadTimeout", Assert.Throws<ArgumentException>(() => new HubClient(Options() with { ReadTimeout = TimeSpan.FromDays(2) })).Message,
            StringComparison.Ordinal);
        Assert.Contains("OverallTimeout", Assert.Throws<ArgumentException>(() => new HubClient(Options() with { OverallTimeout = TimeSpan.FromMilliseconds(-5) })).Message,
            StringComparison.Ordinal);
        Assert.Contains("MaxRetryDelay", Assert.Throws<ArgumentException>(() => new HubClient(Options() with { MaxRetryDelay = TimeSpan.FromMilliseconds(1) })).Message,
            StringComparison.Ordinal);
        Assert.Contains("MaxRetries", Assert.Throws<ArgumentException>(() => new HubClient(Options() with { MaxRetries = -1 })).Message, StringComparison.Ordinal);
        Assert.Contains("MaxMetadataBytes", Assert.Throws<ArgumentException>(() => new HubClient(Options() with { MaxMetadataBytes = 0 })).Message,
            StringComparison.Ordinal);

        using var unlimited = new HubClient(Options() with { RequestTimeout = System.Threading.Timeout.InfiniteTimeSpan, ReadTimeout = System.Threading.Timeout.InfiniteTimeSpan, MaxRetries = 0 });
        Assert.False(unlimited.IsOffline);
    }
}
