using System.Collections;
using Bert.Sharp.Inference;
using Bert.Sharp.Tests.Onnx;

namespace Bert.Sharp.Tests.OnnxServing;

/// <summary>
/// <c>PredictBatchAsync</c> of both backends honours its token while it runs, not only before it starts: the token is
/// checked before each batch, so an HTTP request that goes away (Bert.Sharp.Hosting passes <c>RequestAborted</c>) stops
/// the remaining work within one batch. No timer decides when the token fires (a 50 ms timer let a fast machine finish
/// the whole run first): the runner's test cancels from inside the third batch, the classifiers' tests cancel when the
/// call reads its last text, after the task has started.
/// </summary>
[Collection(ExportedModelsGroup.Name)]
public sealed class PredictBatchCancellationTests(ExportedModelsFixture fixture)
{
    private static readonly string[] ManyTexts = [.. Enumerable.Range(0, 1000).Select(i => OnnxTextClassifierTests.Sentences[i % OnnxTextClassifierTests.Sentences.Length])];

    [Fact]
    public void The_batch_runner_stops_within_one_batch_of_being_cancelled()
    {
        using var cts = new CancellationTokenSource();
        EncodedText[] rows = [.. Enumerable.Range(0, 10).Select(_ => new EncodedText([1, 2, 3], [0, 0, 0]))];
        int batchesRun = 0;

        Assert.ThrowsAny<OperationCanceledException>(() => LengthGroupedBatches.Run(rows, 2, batch =>
        {
            if (++batchesRun == 3)
            {
                cts.Cancel();
            }

            return batch;
        }, cts.Token));

        Assert.Equal(3, batchesRun);
    }

    [Fact]
    public async Task Onnx_classifier_stops_when_cancelled_while_it_runs()
    {
        using var onnx = OnnxTextClassifier.FromPretrained(fixture.PoolerClassifier, new OnnxClassifierOptions { BatchSize = 1 });
        await AssertStopsAndStillServes(onnx);
    }

    [Fact]
    public async Task TorchSharp_classifier_stops_when_cancelled_while_it_runs()
    {
        using var classifier = TextClassifier.FromPretrained(fixture.PoolerClassifier, new TextClassifierOptions { BatchSize = 1 });
        await AssertStopsAndStillServes(classifier);
    }

    private static async Task AssertStopsAndStillServes(ITextClassifier classifier)
    {
        using var cts = new CancellationTokenSource();
        var texts = new CancelOnLastRead(ManyTexts, cts);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => classifier.PredictBatchAsync(texts, cts.Token));
        Assert.True(texts.LastWasRead, "The call was cancelled before it read its texts, so the in-run check was not exercised.");

        // Not cancelled: the same call completes, in input order.
        IReadOnlyList<Prediction> few = await classifier.PredictBatchAsync(ManyTexts[..3]);
        Assert.Equal(classifier.Predict(ManyTexts[1]).Label, few[1].Label);
    }

    // Cancels the token the first time the last text is read: inside the running call, before its first batch runs.
    private sealed class CancelOnLastRead(string[] texts, CancellationTokenSource cts) : IReadOnlyList<string>
    {
        public bool LastWasRead { get; private set; }

        public int Count => texts.Length;

        public string this[int index]
        {
            get
            {
                if (index == texts.Length - 1 && !LastWasRead)
                {
                    LastWasRead = true;
                    cts.Cancel();
                }

                return texts[index];
            }
        }

        public IEnumerator<string> GetEnumerator()
        {
            for (int i = 0; i < texts.Length; i++)
            {
                yield return this[i];
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
