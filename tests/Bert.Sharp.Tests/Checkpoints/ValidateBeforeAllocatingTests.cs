using System.Text.Json.Nodes;
using Bert.Sharp.Checkpoints;
using Bert.Sharp.Tests.Adapters;
using Bert.Sharp.Tests.Fuzzing;
using Bert.Sharp.Tests.TestSupport;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Checkpoints;

/// <summary>
/// Issue 21, row 3: a folder whose <c>config.json</c> (or adapter labels) describes far more than its weights is refused
/// before the model it describes is allocated. The bound asserted is the issue's: the process's peak resident memory
/// rises by at most twice the folder's files plus 300 MB while the folder is refused (<see cref="PeakMemory"/>: the
/// kernel's high-water mark, reset before the load). On f4b9558 each of these built the model first (0.8–2 GB here).
/// Serial: the peak is the whole process's.
/// </summary>
[Collection(SerialFuzzGroup.Name)]
public sealed class ValidateBeforeAllocatingTests(ITestOutputHelper output) : IDisposable
{
    private const long Allowance = 300L << 20;

    private readonly string dir = TestTemp.NewDirectory("validate-first");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    [InlineData("num_hidden_layers", 500)]
    [InlineData("intermediate_size", 200_000)]
    [InlineData("hidden_size", 4_096)]
    [InlineData("vocab_size", 500_000)]
    public void A_config_that_does_not_fit_its_weights_is_refused_within_the_memory_bound(string key, int value)
    {
        string folder = BaseFolder();
        EditJson(Path.Combine(folder, "config.json"), json => json[key] = value);
        long bound = (2 * FolderBytes(folder)) + Allowance;
        (long peak, Exception? thrown) = PeakMemory.Measure(() => BertForSequenceClassification.FromPretrained(folder, LoraTestModels.Labels).Dispose());
        output.WriteLine($"{key} {value}: peak growth {peak >> 20} MiB, bound {bound >> 20} MiB; {thrown?.GetType().Name}: {thrown?.Message}");
        var e = Assert.IsType<InvalidDataException>(thrown);
        Assert.Contains(folder, e.Message, StringComparison.Ordinal);
        Assert.Contains("config.json", e.Message, StringComparison.Ordinal);
        Assert.InRange(peak, 0, bound);

        (peak, thrown) = PeakMemory.Measure(() => BertModel.FromPretrained(folder).Dispose());
        Assert.IsType<InvalidDataException>(thrown);
        Assert.InRange(peak, 0, bound);
    }

    [Fact]
    public void A_million_recorded_labels_beside_a_two_row_head_are_refused_within_the_memory_bound()
    {
        string baseFolder = BaseFolder();
        string adapter = Path.Combine(dir, "adapter");
        using (var model = BertForSequenceClassification.FromPretrained(baseFolder, LoraTestModels.Labels))
        {
            model.Adapters.Add("default", new LoraOptions { Rank = 4 });
            model.SavePretrained(adapter);
        }

        string weights = Path.Combine(adapter, "adapter_model.safetensors");
        (_, IReadOnlyDictionary<string, string> read) = SafeTensors.ReadHeader(weights);
        var metadata = new Dictionary<string, string>(read, StringComparer.Ordinal)
        {
            ["bert_sharp.labels"] = System.Text.Json.JsonSerializer.Serialize(Enumerable.Range(0, 1_000_000).Select(i => $"label_{i}")),
        };
        Dictionary<string, Tensor> tensors = SafeTensors.Load(weights);
        SafeTensors.Save(weights, tensors, metadata);
        foreach (Tensor t in tensors.Values)
        {
            t.Dispose();
        }

        long bound = (2 * FolderBytes(adapter)) + Allowance;
        (long peak, Exception? thrown) = PeakMemory.Measure(() => BertForSequenceClassification.FromPretrained(adapter).Dispose());
        output.WriteLine($"1,000,000 labels: peak growth {peak >> 20} MiB, bound {bound >> 20} MiB; {thrown?.GetType().Name}: {thrown?.Message}");
        var e = Assert.IsType<InvalidDataException>(thrown);
        Assert.Contains("bert_sharp.labels", e.Message, StringComparison.Ordinal);
        Assert.Contains(weights, e.Message, StringComparison.Ordinal);
        Assert.InRange(peak, 0, bound);
    }

    [Fact]
    public void Missing_weights_allowed_still_bound_what_stays_random()
    {
        string folder = BaseFolder();
        EditJson(Path.Combine(folder, "config.json"), json => json["num_hidden_layers"] = 500);
        var e = Assert.Throws<InvalidDataException>(() => BertModel.FromPretrained(folder, new BertLoadOptions { AllowMissingWeights = true }).Dispose());
        Assert.Contains("would stay random", e.Message, StringComparison.Ordinal);

        // A few missing layers within the allowance still load, as documented.
        EditJson(Path.Combine(folder, "config.json"), json => json["num_hidden_layers"] = 3);
        using var loaded = BertModel.FromPretrained(folder, new BertLoadOptions { AllowMissingWeights = true });
        Assert.Equal(3, loaded.Layers.Count);
    }

    [Fact]
    public void The_shapes_computed_from_a_config_are_those_of_the_model()
    {
        foreach (bool pooler in new[] { true, false })
        {
            BertConfig config = TinyConfigs.Bert(layers: 3, hidden: 48, heads: 4, vocab: 77, maxPositions: 40) with { IntermediateSize = 100, TypeVocabSize = 3 };
            using var model = new BertModel(config, addPoolingLayer: pooler);
            Dictionary<string, long[]> expected = ConfigShapes.Of(config);
            Dictionary<string, Tensor> actual = model.state_dict();
            Assert.Equal(actual.Keys.Order(StringComparer.Ordinal), expected.Keys.Where(k => pooler || !k.StartsWith("pooler.", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
            foreach ((string key, Tensor value) in actual)
            {
                Assert.Equal(value.shape, expected[key]);
            }
        }
    }

    // A base of real (if small) size: 2 layers of hidden 256, about 4.5 MB of weights.
    private string BaseFolder()
    {
        string folder = Path.Combine(dir, $"base-{Guid.NewGuid():N}");
        using var model = new BertModel(TinyConfigs.Bert(layers: 2, hidden: 256, heads: 4, vocab: 200) with { IntermediateSize = 512 });
        model.SavePretrained(folder);
        return folder;
    }

    private static long FolderBytes(string folder) => Directory.GetFiles(folder).Sum(f => new FileInfo(f).Length);

    private static void EditJson(string path, Action<JsonObject> edit)
    {
        var json = (JsonObject)JsonNode.Parse(File.ReadAllText(path))!;
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }
}
