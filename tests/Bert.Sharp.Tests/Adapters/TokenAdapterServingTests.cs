using Bert.Sharp.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Adapters;

/// <summary>
/// One token-classification base with two LoRA adapters, chosen per call: each call gets what a classifier loaded from
/// that adapter's own folder gives, also from several threads at once.
/// </summary>
public sealed class TokenAdapterServingTests : IDisposable
{
    // Entity tags first so a random head tags most tokens as entities (the scores are then compared token by token).
    private static readonly string[] Tags = ["B-X", "I-X", "O"];

    private readonly string root = TestTemp.NewDirectory("token-adapters");

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void Each_call_gets_its_own_adapters_entities_and_unknown_names_are_refused()
    {
        BertTokenizer tokenizer = BertTokenizer.FromVocabulary(TestAssets.UncasedVocabPath);
        string baseDir = Path.Combine(root, "base");
        using (var model = new BertForTokenClassification(TinyConfigs.Bert(vocab: tokenizer.VocabularySize, maxPositions: 128), Tags))
        {
            using var generator = new Generator(11);
            using (no_grad())
            {
                foreach ((string _, TorchSharp.Modules.Parameter p) in model.named_parameters())
                {
                    p.copy_(randn(p.shape, generator: generator) * 0.05);
                }
            }

            model.SavePretrained(baseDir, tokenizer);
        }

        var folders = new Dictionary<string, string>();
        foreach ((string name, int seed) in new[] { ("a", 1), ("b", 2) })
        {
            using BertForTokenClassification single = BertForTokenClassification.FromPretrained(baseDir);
            LoraTestModels.AddRandomAdapter(single, name, new LoraOptions { Rank = 2 + seed, Targets = LoraTargets.AllLinear }, seed);
            folders[name] = Path.Combine(root, name);
            single.Adapters.Save(folders[name]);
        }

        string[] texts = ["Motorola sells the Razr in Texas", "ok", "Verizon and Samsung, again and again"];
        var options = new TokenClassifierOptions { Aggregation = AggregationStrategy.None };
        var expected = new Dictionary<string, IReadOnlyList<IReadOnlyList<Entity>>>();
        foreach (string name in folders.Keys)
        {
            using TokenClassifier alone = TokenClassifier.FromPretrained(folders[name], options); // resolves the base
            expected[name] = alone.PredictBatch(texts);
            Assert.Equal(Tags, alone.Labels);
        }

        using TokenClassifier shared = TokenClassifier.FromPretrained(baseDir, options);
        shared.LoadAdapter(folders["a"], "a");
        shared.LoadAdapter(folders["b"], "b");
        Assert.Equal(["a", "b"], shared.AdapterNames);

        Parallel.For(0, 8, i =>
        {
            string name = i % 2 == 0 ? "a" : "b";
            AssertSame(expected[name], shared.PredictBatch(texts, name));
            AssertSame(expected[name][0], shared.Predict(texts[0], name));
        });
        shared.Model.Adapters.Use("a");
        AssertSame(expected["b"], shared.PredictBatch(texts, "b")); // the call's choice wins over the active adapter
        Assert.NotEqual(Scores(expected["a"]), Scores(expected["b"]));
        Assert.Throws<KeyNotFoundException>(() => shared.PredictBatch(texts, "c"));
        Assert.Throws<KeyNotFoundException>(() => shared.Predict("x", "c"));
    }

    private static float[] Scores(IReadOnlyList<IReadOnlyList<Entity>> rows) => [.. rows.SelectMany(r => r.Select(e => e.Score))];

    private static void AssertSame(IReadOnlyList<IReadOnlyList<Entity>> expected, IReadOnlyList<IReadOnlyList<Entity>> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            AssertSame(expected[i], actual[i]);
        }
    }

    private static void AssertSame(IReadOnlyList<Entity> expected, IReadOnlyList<Entity> actual)
    {
        Assert.Equal(expected.Select(e => (e.Start, e.End, e.Group)), actual.Select(e => (e.Start, e.End, e.Group)));
        Assert.All(expected.Zip(actual), pair => Assert.Equal(pair.First.Score, pair.Second.Score, 5));
    }
}
