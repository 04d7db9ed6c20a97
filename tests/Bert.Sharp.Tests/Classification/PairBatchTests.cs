using Bert.Sharp.Tests.Serving;

namespace Bert.Sharp.Tests.Classification;

public class PairBatchTests
{
    [Fact]
    public void PredictBatch_of_pairs_equals_one_pair_at_a_time_in_input_order()
    {
        using var classifier = TextClassifier.FromPretrained(TinyClassifierFolder.Create(), new TextClassifierOptions { BatchSize = 2 });
        (string, string)[] pairs = [("a cat", "a dog sat on the mat today"), ("hello", "world"), ("one two three four", "five"), ("x", "y z")];
        IReadOnlyList<Prediction> batch = classifier.PredictBatch(pairs);
        Assert.Equal(pairs.Length, batch.Count);
        for (int i = 0; i < pairs.Length; i++)
        {
            Prediction single = classifier.Predict(pairs[i].Item1, pairs[i].Item2);
            Assert.Equal(single.Label, batch[i].Label);
            Assert.Equal(single.Score, batch[i].Score, 4);
        }

        Assert.Empty(classifier.PredictBatch(Array.Empty<(string, string)>()));
        var error = Assert.Throws<ArgumentException>(() => classifier.PredictBatch([("a", "b"), ("c", null!)]));
        Assert.Contains("Pair #1", error.Message, StringComparison.Ordinal);
    }
}
