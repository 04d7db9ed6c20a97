namespace Bert.Sharp.Tests.Serving;

public sealed class MicroBatcherTests : IDisposable
{
    private readonly BatchRecorder<string, string> recorder = new(text => text.ToUpperInvariant());

    public void Dispose() => recorder.Dispose();

    private MicroBatcher<string, string> NewBatcher(int maxBatchSize = 16, int queueCapacity = 100, TimeSpan? maxDelay = null, bool byLength = false) =>
        new(recorder.Run, new MicroBatcherOptions { MaxBatchSize = maxBatchSize, QueueCapacity = queueCapacity, MaxDelay = maxDelay ?? TimeSpan.Zero },
            byLength ? text => text.Length : null);

    /// <summary>Holds the worker in a first batch of one request, so whatever the test queues next waits behind it.</summary>
    private async Task<Task<string>> OccupyWorkerAsync(MicroBatcher<string, string> batcher)
    {
        recorder.Hold();
        Task<string> first = batcher.EnqueueAsync("first");
        await recorder.HeldBatchStarted;
        return first;
    }

    [Fact]
    public async Task Requests_queued_behind_a_running_batch_run_together_in_the_next_one()
    {
        await using var batcher = NewBatcher(maxBatchSize: 16);
        Task<string> first = await OccupyWorkerAsync(batcher);
        Task<string>[] queued = [.. Enumerable.Range(0, 10).Select(i => batcher.EnqueueAsync($"t{i}"))];
        Assert.Equal(10, batcher.QueueLength);
        recorder.Release();

        Assert.Equal("FIRST", await first);
        string[] results = await Task.WhenAll(queued);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"T{i}"), results);
        Assert.Equal([1, 10], recorder.Batches.Select(b => b.Length));
        Assert.Equal(0, batcher.QueueLength);
    }

    [Fact]
    public async Task Batches_never_exceed_MaxBatchSize_and_keep_arrival_order_across_batches()
    {
        await using var batcher = NewBatcher(maxBatchSize: 4);
        Task<string> first = await OccupyWorkerAsync(batcher);
        Task<string>[] queued = [.. Enumerable.Range(0, 10).Select(i => batcher.EnqueueAsync($"t{i}"))];
        recorder.Release();
        await first;
        await Task.WhenAll(queued);

        Assert.Equal([1, 4, 4, 2], recorder.Batches.Select(b => b.Length));
        Assert.Equal(["first", .. Enumerable.Range(0, 10).Select(i => $"t{i}")], recorder.Batches.SelectMany(b => b));
    }

    [Fact]
    public async Task A_lone_request_waits_for_company_until_the_batch_is_full()
    {
        // MaxDelay is an hour: the batch can only run because it filled up, never because the delay ran out.
        await using var batcher = NewBatcher(maxBatchSize: 4, maxDelay: TimeSpan.FromHours(1));
        Task<string>[] three = [.. new[] { "a", "b", "c" }.Select(t => batcher.EnqueueAsync(t))];
        Assert.All(three, t => Assert.False(t.IsCompleted));
        Task<string> fourth = batcher.EnqueueAsync("d");

        Assert.Equal(["A", "B", "C", "D"], await Task.WhenAll([.. three, fourth]));
        Assert.Equal([4], recorder.Batches.Select(b => b.Length));
    }

    [Fact]
    public async Task A_batch_is_sorted_by_length_and_every_caller_gets_its_own_result()
    {
        await using var batcher = NewBatcher(byLength: true);
        Task<string> first = await OccupyWorkerAsync(batcher);
        string[] texts = ["ccccc", "a", "ccc", "bb", "dddd", "e"];
        Task<string>[] queued = [.. texts.Select(t => batcher.EnqueueAsync(t))];
        recorder.Release();
        await first;

        string[] results = await Task.WhenAll(queued);
        Assert.Equal(texts.Select(t => t.ToUpperInvariant()), results);
        Assert.Equal(["a", "e", "bb", "ccc", "dddd", "ccccc"], recorder.Batches.Last());
    }

    [Fact]
    public async Task A_request_cancelled_while_queued_never_runs_and_frees_its_place()
    {
        await using var batcher = NewBatcher();
        Task<string> first = await OccupyWorkerAsync(batcher);
        using var cts = new CancellationTokenSource();
        Task<string> cancelled = batcher.EnqueueAsync("cancel-me", cts.Token);
        Task<string> kept = batcher.EnqueueAsync("keep-me");
        Assert.Equal(2, batcher.QueueLength);

        await cts.CancelAsync();
        Assert.Equal(1, batcher.QueueLength);
        OperationCanceledException error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(cts.Token, error.CancellationToken);
        Assert.True(cancelled.IsCanceled);

        recorder.Release();
        Assert.Equal("FIRST", await first);
        Assert.Equal("KEEP-ME", await kept);
        Assert.DoesNotContain("cancel-me", recorder.Batches.SelectMany(b => b));
    }

    [Fact]
    public async Task An_already_cancelled_token_is_never_queued()
    {
        await using var batcher = NewBatcher();
        Task<string> task = batcher.EnqueueAsync("x", new CancellationToken(canceled: true));
        Assert.True(task.IsCanceled);
        Assert.Equal(0, batcher.QueueLength);
        Assert.Equal("Y", await batcher.EnqueueAsync("y"));
        Assert.DoesNotContain("x", recorder.Batches.SelectMany(b => b));
    }

    [Fact]
    public async Task A_request_cancelled_while_its_batch_runs_is_cancelled_for_its_caller()
    {
        await using var batcher = NewBatcher();
        using var cts = new CancellationTokenSource();
        recorder.Hold();
        Task<string> running = batcher.EnqueueAsync("running", cts.Token);
        await recorder.HeldBatchStarted;
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        recorder.Release();
        Assert.Equal("NEXT", await batcher.EnqueueAsync("next"));
    }

    [Fact]
    public async Task A_full_queue_refuses_with_QueueFullException_naming_the_capacity()
    {
        await using var batcher = NewBatcher(queueCapacity: 2);
        Task<string> first = await OccupyWorkerAsync(batcher);
        using var cts = new CancellationTokenSource();
        Task<string> a = batcher.EnqueueAsync("a", cts.Token);
        Task<string> b = batcher.EnqueueAsync("b");

        QueueFullException full = await Assert.ThrowsAsync<QueueFullException>(() => batcher.EnqueueAsync("c"));
        Assert.Equal(2, full.Capacity);
        Assert.Contains("(2 requests waiting)", full.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<InvalidOperationException>(full);

        // All or none: two more do not fit even after one place frees up, and none of them is queued.
        await cts.CancelAsync();
        await Assert.ThrowsAsync<QueueFullException>(() => batcher.EnqueueManyAsync(["d", "e"]));
        Assert.Equal(1, batcher.QueueLength);
        Task<string> c = batcher.EnqueueAsync("c");
        await Assert.ThrowsAsync<ArgumentException>(() => batcher.EnqueueManyAsync(["x", "y", "z"]));

        recorder.Release();
        Assert.Equal(["FIRST", "B", "C"], await Task.WhenAll(first, b, c));
        Assert.DoesNotContain("d", recorder.Batches.SelectMany(x => x));
    }

    [Fact]
    public async Task EnqueueManyAsync_returns_results_in_request_order()
    {
        await using var batcher = NewBatcher(maxBatchSize: 3, byLength: true);
        string[] texts = [.. Enumerable.Range(0, 11).Select(i => new string('x', 11 - i) + i)];
        IReadOnlyList<string> results = await batcher.EnqueueManyAsync(texts);
        Assert.Equal(texts.Select(t => t.ToUpperInvariant()), results);
        Assert.Empty(await batcher.EnqueueManyAsync([]));
    }

    [Fact]
    public async Task A_failing_input_fails_only_its_own_request()
    {
        var failing = new BatchRecorder<string, string>(text => text == "bad" ? throw new FormatException("cannot read 'bad'") : text.ToUpperInvariant());
        await using var batcher = new MicroBatcher<string, string>(failing.Run, new MicroBatcherOptions { MaxDelay = TimeSpan.Zero });
        failing.Hold();
        Task<string> first = batcher.EnqueueAsync("first");
        await failing.HeldBatchStarted;
        Task<string> a = batcher.EnqueueAsync("a");
        Task<string> bad = batcher.EnqueueAsync("bad");
        Task<string> c = batcher.EnqueueAsync("c");
        failing.Release();

        Assert.Equal("FIRST", await first);
        Assert.Equal("A", await a);
        Assert.Equal("C", await c);
        FormatException error = await Assert.ThrowsAsync<FormatException>(() => bad);
        Assert.Equal("cannot read 'bad'", error.Message);
        // The mixed batch failed, then each of its requests ran alone.
        Assert.Equal(["first"], failing.Batches.First());
        Assert.Equal([["a", "bad", "c"], ["a"], ["bad"], ["c"]], failing.Batches.Skip(1));
        Assert.Equal("NEXT", await batcher.EnqueueAsync("next"));
        failing.Dispose();
    }

    [Fact]
    public async Task A_batch_function_returning_the_wrong_count_fails_its_requests_with_a_clear_message()
    {
        await using var batcher = new MicroBatcher<string, string>(batch => [], new MicroBatcherOptions { Name = "empty" });
        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.EnqueueAsync("a"));
        Assert.Contains("'empty' returned 0 results for 1 requests", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dispose_fails_queued_requests_and_waits_for_the_running_batch()
    {
        var batcher = NewBatcher();
        Task<string> first = await OccupyWorkerAsync(batcher);
        Task<string> a = batcher.EnqueueAsync("a");
        Task<string> b = batcher.EnqueueAsync("b");

        Task disposing = batcher.DisposeAsync().AsTask();
        ObjectDisposedException error = await Assert.ThrowsAsync<ObjectDisposedException>(() => a);
        Assert.Contains("was disposed; the request was not run", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => b);
        Assert.False(disposing.IsCompleted); // the running batch is still held
        Assert.True(batcher.IsDisposed);

        recorder.Release();
        await disposing;
        Assert.Equal("FIRST", await first);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => batcher.EnqueueAsync("late"));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => batcher.EnqueueManyAsync(["late"]));
        Assert.DoesNotContain("a", recorder.Batches.SelectMany(x => x));
        batcher.Dispose(); // twice is fine
    }

    [Fact]
    public async Task Dispose_fails_a_batch_that_is_still_waiting_for_company()
    {
        var batcher = NewBatcher(maxBatchSize: 8, maxDelay: TimeSpan.FromHours(1));
        Task<string> waiting = batcher.EnqueueAsync("a");
        await batcher.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting);
        Assert.Empty(recorder.Batches);
    }

    [Fact]
    public void Options_out_of_range_are_rejected_by_name()
    {
        Assert.Equal("MaxBatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => NewBatcher(maxBatchSize: 0)).ParamName);
        Assert.Equal("QueueCapacity", Assert.Throws<ArgumentOutOfRangeException>(() => NewBatcher(queueCapacity: -1)).ParamName);
        Assert.Equal("MaxDelay", Assert.Throws<ArgumentOutOfRangeException>(() => NewBatcher(maxDelay: TimeSpan.FromMilliseconds(-1))).ParamName);
        Assert.Throws<ArgumentException>(() => new MicroBatcherOptions { Name = " " }.Validate());
    }

    [Fact]
    public async Task No_request_is_lost_or_run_twice_under_many_concurrent_callers()
    {
        var processed = new System.Collections.Concurrent.ConcurrentBag<int>();
        await using var batcher = new MicroBatcher<int, int>(batch =>
        {
            foreach (int r in batch)
            {
                processed.Add(r);
            }

            return [.. batch.Select(r => r * 2)];
        }, new MicroBatcherOptions { MaxBatchSize = 7, QueueCapacity = 10_000, MaxDelay = TimeSpan.Zero }, r => r % 13);

        const int Callers = 8, PerCaller = 300;
        var outcomes = new (int Request, Task<int> Task)[Callers * PerCaller];
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(c => Task.Run(async () =>
        {
            for (int i = 0; i < PerCaller; i++)
            {
                int request = c * PerCaller + i;
                // Every fifth request is cancelled right after it was queued.
                using var cts = new CancellationTokenSource();
                Task<int> task = batcher.EnqueueAsync(request, request % 5 == 0 ? cts.Token : CancellationToken.None);
                if (request % 5 == 0)
                {
                    await cts.CancelAsync();
                }

                outcomes[request] = (request, task);
                if (i % 50 == 0)
                {
                    await Task.Yield();
                }
            }
        })));

        int cancelled = 0;
        var answered = new List<int>();
        foreach ((int request, Task<int> task) in outcomes)
        {
            if (request % 5 == 0)
            {
                // The worker may finish the request before the caller gets to cancel it (MaxDelay is zero); a
                // cancellation after completion is a no-op, as for any Task. Either outcome is right, nothing else.
                try
                {
                    Assert.Equal(request * 2, await task);
                    answered.Add(request);
                }
                catch (OperationCanceledException)
                {
                    cancelled++;
                }
            }
            else
            {
                Assert.Equal(request * 2, await task);
                answered.Add(request);
            }
        }

        int[] all = [.. processed];
        Assert.Equal(all.Length, all.Distinct().Count()); // none twice
        Assert.Empty(answered.Except(all)); // every answer was computed, none lost
        Assert.True(cancelled > 0, "no cancellation took effect among the cancelled requests");
        Assert.Equal(0, batcher.QueueLength);
    }
}
