using Bert.Sharp.Tests.Onnx;
using Xunit.Abstractions;

namespace Bert.Sharp.Tests.OnnxServing;

/// <summary>OnnxTextClassifier (ONNX Runtime) against TextClassifier (TorchSharp) on the same folders.</summary>
[Collection(ExportedModelsGroup.Name)]
public sealed class OnnxTextClassifierTests(ExportedModelsFixture fixture, ITestOutputHelper output)
{
    internal static readonly string[] Sentences =
    [
        "Great phone, the battery lasts for days.",
        "Terrible. It broke after a week and support never answered.",
        "",
        "OK I guess",
        "The headset works with my Motorola but the sound is tinny, and the ear piece keeps falling off; I would not buy it again, honestly, not even at half the price.",
        "Fits well.",
    ];

    [Theory]
    [InlineData("pooler")]
    [InlineData("mean")]
    public void Predictions_equal_TextClassifier_on_the_same_folder(string pooling)
    {
        string folder = pooling == "pooler" ? fixture.PoolerClassifier : fixture.MeanClassifier;
        using var reference = TextClassifier.FromPretrained(folder);
        using var onnx = OnnxTextClassifier.FromPretrained(folder);
        Assert.Equal(reference.Labels, onnx.Labels);
        IReadOnlyList<Prediction> expected = reference.PredictBatch(Sentences);
        IReadOnlyList<Prediction> batch = onnx.PredictBatch(Sentences);
        float worst = 0;
        for (int i = 0; i < Sentences.Length; i++)
        {
            Prediction single = onnx.Predict(Sentences[i]);
            foreach (Prediction actual in new[] { single, batch[i] })
            {
                Assert.Equal(expected[i].Label, actual.Label);
                Assert.Equal(expected[i].Labels, actual.Labels);
                foreach ((string label, float p) in expected[i].Probabilities)
                {
                    worst = Math.Max(worst, Math.Abs(p - actual.Probabilities[label]));
                }
            }
        }

        output.WriteLine($"{pooling}: max |diff| probabilities OnnxTextClassifier vs TextClassifier {worst:E2}");
        Assert.True(worst <= 1e-4f, $"probabilities differ by {worst}");
    }

    [Theory]
    [InlineData("pooler")]
    [InlineData("mean")]
    public void Pair_batches_equal_TextClassifier_pair_predictions(string pooling)
    {
        string folder = pooling == "pooler" ? fixture.PoolerClassifier : fixture.MeanClassifier;
        using var reference = TextClassifier.FromPretrained(folder);
        using var onnx = OnnxTextClassifier.FromPretrained(folder, new OnnxClassifierOptions { BatchSize = 2 });
        (string Text, string TextPair)[] pairs =
        [
            ("A man is playing a guitar.", "Someone plays an instrument."),
            ("The cat sleeps on the sofa.", ""),
            (Sentences[4], "The sound is tinny."),
            ("Is the battery good?", "Great phone, the battery lasts for days, and it charges in under an hour."),
            ("ok", "ok"),
        ];
        IReadOnlyList<Prediction> expected = reference.PredictBatch(pairs);
        IReadOnlyList<Prediction> actual = onnx.PredictBatch(pairs);
        Assert.Equal(pairs.Length, actual.Count);
        float worst = 0;
        for (int i = 0; i < pairs.Length; i++)
        {
            Assert.Equal(expected[i].Label, actual[i].Label);
            Assert.Equal(expected[i].Labels, actual[i].Labels);
            foreach ((string label, float p) in expected[i].Probabilities)
            {
                worst = Math.Max(worst, Math.Abs(p - actual[i].Probabilities[label]));
            }

            // The batch over pairs is the single pair call, in input order.
            Prediction single = onnx.Predict(pairs[i].Text, pairs[i].TextPair);
            Assert.Equal(single.Score, actual[i].Score, 1e-5f);
        }

        output.WriteLine($"{pooling}: max |diff| pair probabilities OnnxTextClassifier vs TextClassifier {worst:E2}");
        Assert.True(worst <= 1e-4f, $"pair probabilities differ by {worst}");
        Assert.Empty(onnx.PredictBatch(Array.Empty<(string, string)>()));
        var error = Assert.Throws<ArgumentException>(() => onnx.PredictBatch([("a", "b"), ("c", null!)]));
        Assert.Contains("Pair #1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_calls_give_the_sequential_results()
    {
        using var onnx = OnnxTextClassifier.FromPretrained(fixture.PoolerClassifier, new OnnxClassifierOptions { IntraOpThreads = 1 });
        Prediction[] sequential = [.. Sentences.Select(s => onnx.Predict(s))];
        Prediction[][] parallel = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Sentences.Select(s => onnx.Predict(s)).ToArray())));
        foreach (Prediction[] run in parallel)
        {
            for (int i = 0; i < Sentences.Length; i++)
            {
                Assert.Equal(sequential[i].Label, run[i].Label);
                Assert.Equal(sequential[i].Score, run[i].Score, 1e-6f);
            }
        }

        Prediction async = await onnx.PredictAsync(Sentences[0]);
        Assert.Equal(sequential[0].Label, async.Label);
        Assert.Equal(Sentences.Length, (await onnx.PredictBatchAsync(Sentences)).Count);
    }

    [Fact]
    public async Task Dispose_during_calls_lets_them_finish_and_refuses_later_ones()
    {
        var onnx = OnnxTextClassifier.FromPretrained(fixture.PoolerClassifier, new OnnxClassifierOptions { IntraOpThreads = 1 });
        using var started = new CountdownEvent(4);
        int completed = 0, refused = 0;
        Task[] callers = [.. Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            started.Signal();
            for (int i = 0; i < 200; i++)
            {
                try
                {
                    onnx.Predict(Sentences[i % Sentences.Length]);
                    Interlocked.Increment(ref completed);
                }
                catch (ObjectDisposedException e)
                {
                    Assert.Contains(nameof(OnnxTextClassifier), e.Message, StringComparison.Ordinal);
                    Interlocked.Increment(ref refused);
                    return;
                }
            }
        }))];
        started.Wait();
        onnx.Dispose();
        onnx.Dispose();
        await Task.WhenAll(callers);
        var e = Assert.Throws<ObjectDisposedException>(() => onnx.Predict("after"));
        Assert.Contains(nameof(OnnxTextClassifier), e.Message, StringComparison.Ordinal);
        Assert.Throws<ObjectDisposedException>(() => onnx.PredictBatch(["after"]));
        output.WriteLine($"{completed} calls completed, {refused} callers refused after Dispose");
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        using var onnx = OnnxTextClassifier.FromPretrained(fixture.PoolerClassifier);
        Assert.Throws<ArgumentNullException>(() => onnx.Predict(null!));
        var e = Assert.Throws<ArgumentException>(() => onnx.PredictBatch(["a", null!]));
        Assert.Contains("#1", e.Message, StringComparison.Ordinal);
        Assert.Empty(onnx.PredictBatch(Array.Empty<string>()));
        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxTextClassifier.FromPretrained(fixture.PoolerClassifier, new OnnxClassifierOptions { BatchSize = 0 }));
    }
}
