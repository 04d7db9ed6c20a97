using Bert.Sharp.Checkpoints;
using Bert.Sharp.IO;
using Bert.Sharp.Tests.TestSupport;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Checkpoints;

public sealed class PretrainedTests : IDisposable
{
    private readonly string dir = TestTemp.NewDirectory("pre");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SavePretrained_then_FromPretrained_gives_identical_outputs(bool pooler)
    {
        manual_seed(11);
        using var model = new BertModel(TinyConfigs.Bert(layers: 2), pooler);
        model.eval();
        model.SavePretrained(dir);
        Assert.True(File.Exists(Path.Combine(dir, "config.json")));
        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")));
        using var loaded = BertModel.FromPretrained(dir, new BertLoadOptions { Strict = true });
        Assert.Equal(pooler, loaded.Pooler is not null);
        Assert.False(loaded.training);

        using var noGrad = no_grad();
        using var ids = tensor(new long[,] { { 2, 5, 9, 4, 0 }, { 7, 8, 1, 0, 0 } });
        using var mask = tensor(new long[,] { { 1, 1, 1, 1, 0 }, { 1, 1, 1, 0, 0 } });
        using var types = tensor(new long[,] { { 0, 0, 1, 1, 0 }, { 0, 1, 1, 0, 0 } });
        using var a = model.Forward(ids, mask, types);
        using var b = loaded.Forward(ids, mask, types);
        Assert.True(TensorAssert.BitEqual(a.LastHiddenState, b.LastHiddenState));
        if (pooler)
        {
            Assert.True(TensorAssert.BitEqual(a.PooledOutput!, b.PooledOutput!));
        }

        foreach ((string key, Tensor value) in model.state_dict())
        {
            Assert.True(TensorAssert.BitEqual(value, loaded.state_dict()[key]), key);
        }
    }

    [Fact]
    public void Saved_keys_have_no_prefix()
    {
        using var model = new BertModel(TinyConfigs.Bert(layers: 1));
        model.SavePretrained(dir);
        var keys = SafeTensors.ReadHeader(Path.Combine(dir, "model.safetensors")).Entries.Select(e => e.Name).ToList();
        Assert.Contains("embeddings.word_embeddings.weight", keys);
        Assert.Contains("encoder.layer.0.attention.self.query.weight", keys);
        Assert.Contains("pooler.dense.weight", keys);
        Assert.All(keys, k => Assert.False(k.StartsWith("bert.", StringComparison.Ordinal)));
    }

    [Fact]
    public void Task_checkpoint_with_bert_prefix_and_legacy_names_loads_into_base_model()
    {
        manual_seed(12);
        using var model = new BertModel(TinyConfigs.Bert(layers: 1));
        var state = new Dictionary<string, Tensor>();
        foreach ((string key, Tensor value) in model.state_dict())
        {
            string name = "bert." + key;
            if (key.Contains("LayerNorm", StringComparison.Ordinal))
            {
                name = name.Replace(".weight", ".gamma", StringComparison.Ordinal).Replace(".bias", ".beta", StringComparison.Ordinal);
            }

            state[name] = value;
        }

        state["classifier.weight"] = ones(2, 32);
        state["bert.embeddings.position_ids"] = arange(64L).unsqueeze(0);
        model.Config.Save(Path.Combine(dir, "config.json"));
        SafeTensors.Save(Path.Combine(dir, FolderFileNames.SafeTensorsWeights), state);

        var logs = new ListLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        using var loaded = BertModel.FromPretrained(dir, new BertLoadOptions { LoggerFactory = factory });
        foreach ((string key, Tensor value) in model.state_dict())
        {
            Assert.True(TensorAssert.BitEqual(value, loaded.state_dict()[key]), key);
        }

        string warning = Assert.Single(logs.Messages);
        Assert.Contains("were not used when initializing", warning, StringComparison.Ordinal);
        Assert.Contains("classifier.weight", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("position_ids", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Base_checkpoint_gets_the_prefix_when_the_module_expects_it()
    {
        var modelKeys = new[] { "bert.embeddings.word_embeddings.weight", "classifier.weight" };
        var map = StateDictLoader.MapCheckpointKeys(["embeddings.word_embeddings.weight"], modelKeys, "bert");
        Assert.Equal("embeddings.word_embeddings.weight", map["bert.embeddings.word_embeddings.weight"]);
        Assert.False(map.ContainsKey("classifier.weight"));
    }

    [Fact]
    public void Shape_mismatch_always_throws_naming_key_and_shapes()
    {
        using var big = new BertModel(TinyConfigs.Bert(layers: 1, vocab: 120));
        big.SavePretrained(dir);
        // The config says 100 tokens; the weights have 120.
        (big.Config with { VocabSize = 100 }).Save(Path.Combine(dir, "config.json"));

        var e = Assert.Throws<InvalidDataException>(() => BertModel.FromPretrained(dir, new BertLoadOptions { Strict = true }));
        Assert.Contains("embeddings.word_embeddings.weight", e.Message, StringComparison.Ordinal);
        Assert.Contains("[120, 32]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[100, 32]", e.Message, StringComparison.Ordinal);

        // Hugging Face raises on size mismatches too: a model with a random embedding table is never returned.
        e = Assert.Throws<InvalidDataException>(() => BertModel.FromPretrained(dir));
        Assert.Contains("embeddings.word_embeddings.weight: checkpoint [120, 32] vs model [100, 32]", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => BertForSequenceClassification.FromPretrained(dir, ["a", "b"]));

        using var target = new BertModel(TinyConfigs.Bert(layers: 1));
        var report = StateDictLoader.Load(target, CheckpointFiles.LoadStateDict(dir), "bert", strict: false, logger: null, dir);
        Assert.Equal(["embeddings.word_embeddings.weight: checkpoint [120, 32] vs model [100, 32]"], report.MismatchedShapes);
        Assert.Empty(report.UnexpectedKeys);
        Assert.Empty(report.MissingKeys);
    }

    [Fact]
    public void Missing_keys_are_reported_and_strict_throws()
    {
        using var small = new BertModel(TinyConfigs.Bert(layers: 1), addPoolingLayer: false);
        using var target = new BertModel(TinyConfigs.Bert(layers: 1));
        var state = small.state_dict();
        var report = StateDictLoader.Load(target, state, "bert", strict: false, logger: null, "mem");
        Assert.Equal(["pooler.dense.bias", "pooler.dense.weight"], report.MissingKeys.Order(StringComparer.Ordinal));
        var e = Assert.Throws<InvalidDataException>(() => StateDictLoader.Load(target, state, "bert", strict: true, logger: null, "mem"));
        Assert.Contains("pooler.dense.weight", e.Message, StringComparison.Ordinal);
        Assert.Contains("'mem'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_config_names_directory_and_file()
    {
        using var model = new BertModel(TinyConfigs.Bert(layers: 1));
        SafeTensors.Save(Path.Combine(dir, FolderFileNames.SafeTensorsWeights), model.state_dict());
        var e = Assert.Throws<FileNotFoundException>(() => BertModel.FromPretrained(dir));
        Assert.Contains(dir, e.Message, StringComparison.Ordinal);
        Assert.Contains("config.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_weights_name_directory_and_files_looked_for()
    {
        TinyConfigs.Bert(layers: 1).Save(Path.Combine(dir, "config.json"));
        var e = Assert.Throws<FileNotFoundException>(() => BertModel.FromPretrained(dir));
        Assert.Contains(dir, e.Message, StringComparison.Ordinal);
        foreach (string name in new[] { "model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json" })
        {
            Assert.Contains(name, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Missing_directory_is_a_DirectoryNotFoundException_naming_it()
    {
        string missing = Path.Combine(dir, "absent");
        var e = Assert.Throws<DirectoryNotFoundException>(() => BertModel.FromPretrained(missing));
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sharded_safetensors_load_through_the_index()
    {
        manual_seed(13);
        using var model = new BertModel(TinyConfigs.Bert(layers: 2));
        var state = model.state_dict();
        var first = state.Where(kv => !kv.Key.StartsWith("encoder.layer.1", StringComparison.Ordinal)).ToList();
        var second = state.Where(kv => kv.Key.StartsWith("encoder.layer.1", StringComparison.Ordinal)).ToList();
        SafeTensors.Save(Path.Combine(dir, "model-00001-of-00002.safetensors"), first);
        SafeTensors.Save(Path.Combine(dir, "model-00002-of-00002.safetensors"), second);
        var map = first.ToDictionary(kv => kv.Key, _ => "model-00001-of-00002.safetensors");
        foreach (var kv in second)
        {
            map[kv.Key] = "model-00002-of-00002.safetensors";
        }

        File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"), System.Text.Json.JsonSerializer.Serialize(new { metadata = new { total_size = 0 }, weight_map = map }));
        model.Config.Save(Path.Combine(dir, "config.json"));
        using var loaded = BertModel.FromPretrained(dir, new BertLoadOptions { Strict = true });
        foreach ((string key, Tensor value) in state)
        {
            Assert.True(TensorAssert.BitEqual(value, loaded.state_dict()[key]), key);
        }
    }

    [Fact]
    public void Options_select_attention_and_dtype()
    {
        using var model = new BertModel(TinyConfigs.Bert(layers: 1));
        model.SavePretrained(dir);
        using var loaded = BertModel.FromPretrained(dir, new BertLoadOptions { AttentionImplementation = "eager", DType = ScalarType.Float64 });
        Assert.Equal("eager", loaded.Config.AttentionImplementation);
        Assert.Equal(ScalarType.Float64, loaded.Embeddings.WordEmbeddings.weight!.dtype);
    }
}
