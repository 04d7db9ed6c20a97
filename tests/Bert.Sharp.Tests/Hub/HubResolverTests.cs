using System.Collections.Concurrent;

namespace Bert.Sharp.Tests.Hub;

/// <summary>
/// Issue 10 item 6 ("FromPretrained takes no token") and issue 14 item 5 (async loading; the synchronous resolver
/// blocked on Task.Run(...).GetAwaiter().GetResult()): tokens and options reach the resolver through both forms, the
/// synchronous form is synchronous for local and cached models and cannot deadlock a synchronization context.
/// </summary>
public class HubResolverTests : HubTestBase
{
    [Fact(Timeout = Timeout)]
    public async Task Token_and_options_reach_the_hub_through_every_resolver_form()
    {
        Repo.Private = true;
        Hub.ValidToken = "hf_secret";
        var progress = new ProgressLog();

        string viaAsync = await PretrainedResolver.ResolveDirectoryAsync(RepoId, Options(token: "hf_secret"), progress, CancellationToken.None);
        string viaSync = PretrainedResolver.ResolveDirectory(RepoId, Options(token: "hf_secret"), null, CancellationToken.None);
        string viaOptions = PretrainedResolver.ResolveDirectory(RepoId, Resolve(token: "hf_secret"));

        Assert.Equal(viaAsync, viaSync);
        Assert.Equal(viaAsync, viaOptions);
        Assert.Contains(progress.Reports, p => p.FileName == "model.safetensors" && p.IsComplete);
        Assert.All(Hub.Requests.Where(r => !r.IsCdn), r => Assert.Equal("Bearer hf_secret", r.Authorization));
    }

    [Fact(Timeout = Timeout)]
    public async Task Model_and_tokenizer_loaders_take_hub_settings_and_load_asynchronously()
    {
        Repo.Private = true;
        Hub.ValidToken = "hf_secret";

        // The tokenizer: async and sync forms, with the token of a private repository.
        BertTokenizer viaAsync = await BertTokenizer.FromPretrainedAsync(RepoId, Resolve(token: "hf_secret"));
        BertTokenizer viaSync = BertTokenizer.FromPretrained(RepoId, Resolve(token: "hf_secret"));
        Assert.Equal(viaAsync.Encode("hello"), viaSync.Encode("hello"));
        Assert.Equal([2, 5, 3], viaAsync.Encode("hello"));

        // The model loaders pass their Hub settings on: the download succeeds with the token (the fake weights are random
        // bytes and the config is incomplete, so loading then fails on a downloaded file, naming it — not on the Hub).
        var e = await Assert.ThrowsAsync<InvalidDataException>(() =>
            BertModel.FromPretrainedAsync(RepoId, new BertLoadOptions { Hub = Resolve(token: "hf_secret") }));
        Assert.Contains(RepoFolder, e.Message, StringComparison.Ordinal);
        Assert.All(Hub.Requests.Where(r => !r.IsCdn), r => Assert.Equal("Bearer hf_secret", r.Authorization));

        // Without the token the same call is the Hub's refusal, not a file error.
        var refused = await Assert.ThrowsAsync<HubException>(() =>
            TextClassifier.FromPretrainedAsync("acme/other-private", new TextClassifierOptions { Hub = Resolve(token: "wrong") }));
        Assert.NotNull(refused.Message);
    }

    [Fact(Timeout = Timeout)]
    public async Task Async_loaders_honour_cancellation_before_any_request()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            BertForSequenceClassification.FromPretrainedAsync(RepoId, null, new ClassifierLoadOptions { Hub = Resolve() }, cts.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => SentenceEmbedder.FromPretrainedAsync(RepoId, new SentenceEmbeddingOptions { Hub = Resolve() }, cts.Token));
        Assert.Equal(0, Hub.RequestCount);
    }

    [Fact(Timeout = Timeout)]
    public async Task Sync_resolver_downloads_inside_a_synchronization_context_without_deadlock()
    {
        // A context whose queue nobody pumps while its thread is blocked: a continuation posted to it would never run, and
        // the test would time out. (Run on a pool thread so the test's own thread stays free to enforce the timeout.)
        await Task.Run(() =>
        {
            var context = new UnpumpedContext();
            SynchronizationContext.SetSynchronizationContext(context);
            try
            {
                string dir = PretrainedResolver.ResolveDirectory(RepoId, Resolve());

                Assert.Equal(Safetensors, File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
                Assert.Same(context, SynchronizationContext.Current); // Restored.
                Assert.Equal(0, context.Posted);
            }
            finally
            {
                SynchronizationContext.SetSynchronizationContext(null);
            }
        });
    }

    [Fact(Timeout = Timeout)]
    public async Task Sync_resolver_serves_offline_and_pinned_cache_hits_without_any_request()
    {
        await PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve());
        int before = Hub.RequestCount;

        string offline = PretrainedResolver.ResolveDirectory(RepoId, Resolve(offline: true));

        Assert.Equal(Path.Combine(RepoFolder, "snapshots", Repo.MainCommit), offline);
        Assert.Equal(before, Hub.RequestCount);
        var miss = Assert.Throws<HubException>(() => PretrainedResolver.ResolveDirectory("acme/other", Resolve(offline: true)));
        Assert.Equal(HubErrorKind.OfflineNotCached, miss.Kind);
        Assert.Equal(before, Hub.RequestCount);
    }

    [Fact(Timeout = Timeout)]
    public async Task Cancelled_resolution_throws_operation_cancelled_and_keeps_nothing_half_done()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => PretrainedResolver.ResolveDirectoryAsync(RepoId, Resolve(), cts.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => PretrainedResolver.ResolveDirectory(RepoId, Resolve(), cts.Token));
        Assert.False(File.Exists(Path.Combine(RepoFolder, "refs", "main")));
    }

    /// <summary>Queues posted work and never runs it.</summary>
    private sealed class UnpumpedContext : SynchronizationContext
    {
        private readonly ConcurrentQueue<(SendOrPostCallback, object?)> _queue = new();

        public int Posted => _queue.Count;

        public override void Post(SendOrPostCallback d, object? state) => _queue.Enqueue((d, state));

        public override void Send(SendOrPostCallback d, object? state) => throw new InvalidOperationException("Send is not expected.");
    }
}
