using System.Text.Json.Nodes;
using Bert.Sharp.Tests.TestSupport;
using Bert.Sharp.Tests.Training;
using Bert.Sharp.Training;

namespace Bert.Sharp.Tests.Fuzzing;

/// <summary>Regression tests for what the adapter and resume fuzzers found (issue 21 item 8).</summary>
public sealed class FuzzFindingsTests : IDisposable
{
    private readonly string dir = TestTemp.NewDirectory("fuzz-findings");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    [InlineData("[UNK]", typeof(InvalidDataException))] // neither a folder nor a model id: was a raw ArgumentException
    [InlineData("/no/such/folder/base", typeof(DirectoryNotFoundException))] // named only the missing folder, not the adapter
    public void A_base_that_cannot_be_resolved_is_refused_naming_the_adapter_config_and_key(string name, Type expected)
    {
        string adapter = SaveAdapter();
        string config = Path.Combine(adapter, "adapter_config.json");
        JsonNode json = JsonNode.Parse(File.ReadAllText(config))!;
        json["base_model_name_or_path"] = name;
        File.WriteAllText(config, json.ToJsonString());

        Exception e = Assert.Throws(expected, () => BertForSequenceClassification.FromPretrained(adapter));
        Assert.Contains(config, e.Message, StringComparison.Ordinal);
        Assert.Contains("base_model_name_or_path", e.Message, StringComparison.Ordinal);
        Exception served = Assert.Throws(expected, () => TextClassifier.FromPretrained(adapter));
        Assert.Contains(config, served.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_base_folder_without_its_files_is_refused_naming_the_adapter_config()
    {
        string adapter = SaveAdapter();
        string empty = Path.Combine(dir, "empty-base");
        Directory.CreateDirectory(empty);
        string config = Path.Combine(adapter, "adapter_config.json");
        JsonNode json = JsonNode.Parse(File.ReadAllText(config))!;
        json["base_model_name_or_path"] = empty;
        File.WriteAllText(config, json.ToJsonString());

        FileNotFoundException e = Assert.Throws<FileNotFoundException>(() => BertForSequenceClassification.FromPretrained(adapter));
        Assert.Contains(config, e.Message, StringComparison.Ordinal);
        Assert.Contains("config.json", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.9, 1.5)] // beta2 ≥ 1
    [InlineData(double.NaN, 0.999)]
    public void An_optimizer_state_with_impossible_hyperparameters_is_refused(double beta1, double beta2)
    {
        using BertForSequenceClassification model = ToyData.Model(seed: 5);
        var options = new FineTuningOptions { AdamBeta1 = beta1 is double.NaN ? 0.9 : beta1, AdamBeta2 = 0.999 };
        string checkpoint = Path.Combine(dir, "checkpoint");
        Directory.CreateDirectory(checkpoint);
        using (TrainableOptimizer saving = TrainableOptimizer.Create(model, options))
        {
            // The file as a damaged disk would leave it: TorchSharp's format holds each group's doubles as written.
            using var stream = new MemoryStream();
            saving.Save(stream);
            byte[] bytes = stream.ToArray();
            ReplaceDouble(bytes, 0.999, beta2);
            if (double.IsNaN(beta1))
            {
                ReplaceDouble(bytes, 0.9, double.NaN);
            }

            File.WriteAllBytes(Path.Combine(checkpoint, "optimizer.bin"), bytes);
        }

        using TrainableOptimizer loading = TrainableOptimizer.Create(model, options);
        InvalidDataException e = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.LoadOptimizer(checkpoint, loading));
        Assert.Contains(checkpoint, e.Message, StringComparison.Ordinal);
        Assert.Contains("betas", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0x7F })] // rank 2^28 - 1: TorchSharp allocated a 2 GiB shape array (seed 24007059)
    [InlineData(new byte[] { 0x03 })] // a rank the parameter does not have
    public void An_optimizer_state_with_a_damaged_tensor_rank_is_refused_before_anything_is_allocated(byte[] rank)
    {
        using BertForSequenceClassification model = ToyData.Model(seed: 5);
        var options = new FineTuningOptions();
        string checkpoint = Path.Combine(dir, "checkpoint-rank");
        Directory.CreateDirectory(checkpoint);
        using TrainableOptimizer optimizer = TrainableOptimizer.Create(model, options);
        using var saved = new MemoryStream();
        optimizer.Save(saved);
        byte[] bytes = saved.ToArray();

        // Header: "AdamW" (length-prefixed), group and state counts (one byte each here), 50 bytes of options per
        // group; then the first state's step (8 bytes) and its first moment's dtype (one byte) precede the rank.
        int groups = optimizer.Layout.Count;
        Assert.True(groups < 128 && optimizer.Parameters.Count < 128);
        int rankAt = 1 + "AdamW".Length + 1 + 1 + (groups * 50) + 8 + 1;
        Assert.Equal(optimizer.Parameters[0].dim(), bytes[rankAt]);
        byte[] damaged = [.. bytes.AsSpan(0, rankAt), .. rank, .. bytes.AsSpan(rankAt + 1)];
        File.WriteAllBytes(Path.Combine(checkpoint, "optimizer.bin"), damaged);

        long before = GC.GetAllocatedBytesForCurrentThread();
        InvalidDataException e = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.LoadOptimizer(checkpoint, optimizer));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains(checkpoint, e.Message, StringComparison.Ordinal);
        Assert.Contains("rank", e.Message, StringComparison.Ordinal);
        Assert.True(allocated < damaged.Length + (1 << 20), $"{allocated} bytes allocated to refuse a {damaged.Length}-byte file");
    }

    private static void ReplaceDouble(byte[] bytes, double from, double to)
    {
        byte[] pattern = BitConverter.GetBytes(from);
        byte[] replacement = BitConverter.GetBytes(to);
        int found = 0;
        for (int i = 0; i + 8 <= bytes.Length; i++)
        {
            if (bytes.AsSpan(i, 8).SequenceEqual(pattern))
            {
                replacement.CopyTo(bytes, i);
                found++;
            }
        }

        Assert.True(found > 0, $"{from} not found in the optimizer file");
    }

    private string SaveAdapter()
    {
        string baseDir = Path.Combine(dir, "base");
        string adapter = Path.Combine(dir, "adapter");
        BertTokenizer tokenizer = BertTokenizer.FromVocabulary(TestAssets.UncasedVocabPath);
        using (var model = SeededWeights.Apply(new BertForSequenceClassification(TinyConfigs.Bert(vocab: tokenizer.VocabularySize), ["negative", "positive"]), 11))
        {
            model.SavePretrained(baseDir, tokenizer);
        }

        using BertForSequenceClassification loaded = BertForSequenceClassification.FromPretrained(baseDir);
        global::Bert.Sharp.Tests.Adapters.LoraTestModels.AddRandomAdapter(loaded, "default", new LoraOptions { Rank = 2 }, 3);
        loaded.Adapters.Save(adapter);
        return adapter;
    }
}
