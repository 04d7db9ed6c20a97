using Bert.Sharp.Tests.Training;

namespace Bert.Sharp.Tests.Serving;

public class BatchingTextClassifierTests
{
    private static readonly MicroBatcherOptions NoDelay = new() { MaxDelay = TimeSpan.Zero };

    [Fact]
    public async Task Concurrent_single_predictions_share_a_batch_of_the_inner_classifier()
    {
        var inner = new FakeTextClassifier();
        await using var classifier = new BatchingTextClassifier(inner, NoDelay);
        inner.Hold();
        Task<Prediction> first = classifier.PredictAsync("first");
        await inner.HeldBatchStarted;
        string[] texts = ["a much longer text", "short", "medium text", "x"];
        Task<Prediction>[] queued = [.. texts.Select(t => classifier.PredictAsync(t))];
        Assert.Equal(4, classifier.QueueLength);
        inner.Release();

        await first;
        Prediction[] predictions = await Task.WhenAll(queued);
        Assert.Equal(texts.Select(t => (float)t.Length), predictions.Select(p => p.Score));
        Assert.Equal(["long", "short", "long", "short"], predictions.Select(p => p.Label));
        // One inner batch for the four, ordered by length.
        Assert.Equal([["first"], ["x", "short", "medium text", "a much longer text"]], inner.Batches);
        Assert.Equal(inner.Labels, classifier.Labels);
        Assert.Same(inner, classifier.Inner);
    }

    [Fact]
    public async Task Synchronous_and_batch_calls_go_through_the_queue_pairs_go_straight_to_the_inner_classifier()
    {
        var inner = new FakeTextClassifier();
        using var classifier = new BatchingTextClassifier(inner, NoDelay);
        Assert.Equal(3, classifier.Predict("one").Score);
        Assert.Equal(["short", "long"], classifier.PredictBatch(["two", "twelve chars"]).Select(p => p.Label));
        Assert.Equal([1f, 2f], (await classifier.PredictBatchAsync(["a", "bb"])).Select(p => p.Score));
        Assert.Equal(0, inner.SingleCalls);
        Assert.Equal(6, classifier.Predict("abc", "def").Score);
        Assert.Equal(1, inner.SingleCalls);
        Assert.Equal(["a", "bb", "one", "twelve chars", "two"], inner.Batches.SelectMany(b => b).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Bad_arguments_and_a_failing_input_reach_only_their_caller()
    {
        var inner = new FakeTextClassifier();
        await using var classifier = new BatchingTextClassifier(inner, NoDelay with { QueueCapacity = 3 });
        await Assert.ThrowsAsync<ArgumentNullException>(() => classifier.PredictAsync(null!));
        Assert.Contains("Text #1 is null", (await Assert.ThrowsAsync<ArgumentException>(() => classifier.PredictBatchAsync(["a", null!]))).Message, StringComparison.Ordinal);
        Assert.Contains("exceed the queue capacity (3)", (await Assert.ThrowsAsync<ArgumentException>(() => classifier.PredictBatchAsync(["a", "b", "c", "d"]))).Message, StringComparison.Ordinal);

        inner.Hold();
        Task<Prediction> first = classifier.PredictAsync("first");
        await inner.HeldBatchStarted;
        Task<IReadOnlyList<Prediction>> mixed = classifier.PredictBatchAsync(["ok", "throw"]);
        Task<Prediction> fine = classifier.PredictAsync("fine");
        await Assert.ThrowsAsync<QueueFullException>(() => classifier.PredictAsync("one too many"));
        inner.Release();

        await first;
        Assert.Equal("the fake cannot classify 'throw'", (await Assert.ThrowsAsync<InvalidDataException>(() => mixed)).Message);
        Assert.Equal(4, (await fine).Score);
    }

    [Fact]
    public async Task Disposing_disposes_the_inner_classifier_unless_left_open()
    {
        var owned = new FakeTextClassifier();
        var classifier = new BatchingTextClassifier(owned);
        classifier.Dispose();
        Assert.True(owned.Disposed);
        Assert.True(classifier.IsDisposed);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => classifier.PredictAsync("late"));

        var shared = new FakeTextClassifier();
        await new BatchingTextClassifier(shared, leaveOpen: true).DisposeAsync();
        Assert.False(shared.Disposed);
    }

    [Fact]
    public async Task Wraps_a_real_TextClassifier_with_the_same_predictions_as_unbatched_calls()
    {
        string dir = TinyClassifierFolder.Create();
        using var plain = TextClassifier.FromPretrained(dir);
        await using var batched = new BatchingTextClassifier(TextClassifier.FromPretrained(dir), new MicroBatcherOptions { MaxBatchSize = 8 });
        string[] texts = [.. ToyData.Sentiment(20, seed: 5).Select(e => e.Text), string.Join(' ', Enumerable.Repeat("good", 500))];
        Prediction[] concurrent = await Task.WhenAll(texts.Select(t => Task.Run(() => batched.PredictAsync(t))));
        for (int i = 0; i < texts.Length; i++)
        {
            Prediction alone = plain.Predict(texts[i]);
            Assert.Equal(alone.Label, concurrent[i].Label);
            Assert.Equal(alone.Score, concurrent[i].Score, 4);
        }
    }
}
