using Bert.Sharp.Tests.Onnx;

namespace Bert.Sharp.Tests.OnnxServing;

/// <summary>
/// <c>PredictBatchAsync</c> of both backends honours its token while it runs, not only before it starts: the token is
/// checked before each batch, so an HTTP request that goes away (Bert.Sharp.Hosting passes <c>RequestAborted</c>) stops
/// the remaining work within one batch.
/// </summary>
[Collection(ExportedModelsGroup.Name)]
public sealed class PredictBatchCancellationTests(ExportedModelsFixture fixture)
{
    // One text per batch and 1,000 texts: seconds of work, so a token cancelled after 50 ms lands mid-run.
    private static readonly string[] ManyTexts = [.. Enumerable.Range(0, 1000).Select(i => OnnxTextClassifierTests.Sentences[i % OnnxTextClassifierTests.Sentences.Length])];

    [Fact]
    public async Task Onnx_classifier_stops_between_batches_when_cancelled()
    {
        using var onnx = OnnxTextClassifier.FromPretrained(fixture.PoolerClassifier, new OnnxClassifierOptions { BatchSize = 1 });
        await AssertStopsAndStillServes(onnx);
    }

    [Fact]
    public async Task TorchSharp_classifier_stops_between_batches_when_cancelled()
    {
        using var classifier = TextClassifier.FromPretrained(fixture.PoolerClassifier, new TextClassifierOptions { BatchSize = 1 });
        await AssertStopsAndStillServes(classifier);
    }

    private static async Task AssertStopsAndStillServes(ITextClassifier classifier)
    {
        using var soon = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => classifier.PredictBatchAsync(ManyTexts, soon.Token));

        // Not cancelled: the same call completes, in input order.
        IReadOnlyList<Prediction> few = await classifier.PredictBatchAsync(ManyTexts[..3]);
        Assert.Equal(classifier.Predict(ManyTexts[1]).Label, few[1].Label);
    }
}
