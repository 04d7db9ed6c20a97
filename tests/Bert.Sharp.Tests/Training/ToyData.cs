using Bert.Sharp.Inference;
using Bert.Sharp.Training;

namespace Bert.Sharp.Tests.Training;

/// <summary>A whitespace tokenizer over a fixed small vocabulary, and separable toy sets, for fast trainer tests.</summary>
internal sealed class ToyEncoder : ITextEncoder
{
    public const int Cls = 1;
    public const int Sep = 2;
    public const int Unk = 3;

    public int PadTokenId => 0;

    public int ModelMaxLength => 64;

    public static int Id(string word) => word switch
    {
        "good" => 10, "great" => 11, "fine" => 12, "bad" => 20, "awful" => 21, "poor" => 22,
        _ => 30 + (int)(StableHash(word) % 60),
    };

    // FNV-1a: string.GetHashCode is randomised per process, which gave the toy words other ids (and other collisions)
    // in every test run, so "seeded" toy tests were not reproducible.
    private static uint StableHash(string word)
    {
        uint hash = 2166136261;
        foreach (char c in word)
        {
            hash = (hash ^ c) * 16777619;
        }

        return hash;
    }

    public IReadOnlyList<EncodedText> Encode(IReadOnlyList<string> texts, IReadOnlyList<string>? pairs, int maxLength)
    {
        var result = new List<EncodedText>();
        for (int i = 0; i < texts.Count; i++)
        {
            var ids = new List<int> { Cls };
            var types = new List<int> { 0 };
            foreach (string w in texts[i].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                ids.Add(Id(w));
                types.Add(0);
            }

            ids.Add(Sep);
            types.Add(0);
            if (pairs is not null)
            {
                foreach (string w in pairs[i].Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    ids.Add(Id(w));
                    types.Add(1);
                }

                ids.Add(Sep);
                types.Add(1);
            }

            if (ids.Count > maxLength)
            {
                ids = [.. ids.Take(maxLength - 1), Sep];
                types = [.. types.Take(maxLength)];
            }

            result.Add(new EncodedText([.. ids], [.. types]));
        }

        return result;
    }

    public WordEncoding EncodeWords(IReadOnlyList<string> words, int maxLength)
    {
        var ids = new List<int> { Cls };
        var wordIds = new List<int?> { null };
        for (int w = 0; w < words.Count && ids.Count < maxLength - 1; w++)
        {
            ids.Add(Id(words[w]));
            wordIds.Add(w);
        }

        ids.Add(Sep);
        wordIds.Add(null);
        return new WordEncoding(ids, wordIds, ids.Count - 2);
    }
}

internal static class ToyData
{
    private static readonly string[] Positive = ["good", "great", "fine"];
    private static readonly string[] Negative = ["bad", "awful", "poor"];
    private static readonly string[] Filler = ["the", "phone", "was", "really", "and", "screen", "battery", "it", "very", "quite"];

    /// <summary>Sentences of 3–9 words; the label is decided by which sentiment word appears.</summary>
    public static List<LabeledExample> Sentiment(int count, int seed = 1)
    {
        var rng = new Random(seed);
        var list = new List<LabeledExample>();
        for (int i = 0; i < count; i++)
        {
            bool positive = i % 2 == 0;
            var words = Enumerable.Range(0, rng.Next(2, 8)).Select(_ => Filler[rng.Next(Filler.Length)]).ToList();
            words.Insert(rng.Next(words.Count + 1), (positive ? Positive : Negative)[rng.Next(3)]);
            list.Add(new LabeledExample(string.Join(' ', words), positive ? "positive" : "negative"));
        }

        return list;
    }

    public static BertForSequenceClassification Model(int layers = 2, double dropout = 0.0, int seed = 7)
    {
        return TestSupport.SeededWeights.Apply(new BertForSequenceClassification(TestSupport.TinyConfigs.Bert(layers: layers, dropout: dropout), ["negative", "positive"]), seed);
    }

    public static FineTuner Tuner(BertForSequenceClassification model, FineTuningOptions options) => new(model, new ToyEncoder(), null, options);

    /// <summary>
    /// Trains with a checkpoint after every epoch (in a temporary folder) and returns the report and how many parameter tensors
    /// the optimizer held at the end: the names of <c>trainer_state.json</c>'s <c>optimizer_groups</c>, each of which has AdamW state.
    /// </summary>
    public static (TrainingReport Report, int OptimizerParameters) TrainCountingOptimizerParameters(BertForSequenceClassification model, FineTuningOptions options, IReadOnlyList<LabeledExample> train)
    {
        string directory = TestSupport.TestTemp.NewDirectory("optimizer-parameters");
        try
        {
            TrainingReport report = Tuner(model, options with { OutputDirectory = directory, SaveStrategy = IntervalStrategy.Epoch }).Train(train);
            string state = Path.Combine(report.LastCheckpoint ?? throw new InvalidOperationException("The run saved no checkpoint."), "trainer_state.json");
            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(state));
            int count = json.RootElement.GetProperty("optimizer_groups").EnumerateArray().Sum(g => g.GetProperty("names").GetArrayLength());
            return (report, count);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Copies of every parameter, by name.</summary>
    public static Dictionary<string, float[]> Snapshot(TorchSharp.torch.nn.Module model) =>
        model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().cpu().data<float>().ToArray());

    /// <summary>Whether <paramref name="policy"/> trains parameter <paramref name="name"/> of <paramref name="model"/> in <paramref name="epoch"/>.</summary>
    public static bool Trains(BertTaskModel model, FreezePolicy policy, string name, int epoch = 0)
    {
        FreezePlan plan = policy.Plan(model.Units, epoch);
        ModelUnit unit = model.Units.First(u => name.StartsWith(u.ParameterPrefix + ".", StringComparison.Ordinal));
        return plan.IsTrainable(unit, name);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialTorchGroup
{
    /// <summary>Tests that rely on torch's global random generator or global tensor counts run alone.</summary>
    public const string Name = "Serial torch";
}
