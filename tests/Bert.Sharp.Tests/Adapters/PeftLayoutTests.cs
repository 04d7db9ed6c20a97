using System.Text.Json;
using System.Text.Json.Nodes;
using Bert.Sharp.Checkpoints;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Adapters;

public class PeftLayoutTests
{
    // The keys and shapes PEFT writes for TinyConfigs.Bert() (2 layers, hidden 32) as BertForSequenceClassification, 2 labels,
    // LoraConfig(task_type="SEQ_CLS", r=4, target_modules=["query", "value"]), derived from PEFT's source (huggingface/peft,
    // commit 5d602fd): LoraModel wraps each targeted nn.Linear in lora.Linear with ModuleDicts lora_A / lora_B holding bias-free
    // nn.Linear(in, r) and nn.Linear(r, out) (tuners/lora/layer.py update_layer), so the in-memory keys are
    // base_model.model.bert.encoder.layer.N.attention.self.query.lora_A.default.weight [r, in]; PeftModelForSequenceClassification
    // adds "classifier" to modules_to_save, whose ModulesToSaveWrapper.adapter_state_dict returns the saved copy's keys under the
    // wrapper's name (base_model.model.classifier.weight); get_peft_model_state_dict (utils/save_and_load.py) then removes the
    // adapter name (_remove_adapter_name_from_state_dict_key: "lora_A.default.weight" -> "lora_A.weight").
    private const string Fixture = """
        {
          "base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight": [4, 32],
          "base_model.model.bert.encoder.layer.0.attention.self.query.lora_B.weight": [32, 4],
          "base_model.model.bert.encoder.layer.0.attention.self.value.lora_A.weight": [4, 32],
          "base_model.model.bert.encoder.layer.0.attention.self.value.lora_B.weight": [32, 4],
          "base_model.model.bert.encoder.layer.1.attention.self.query.lora_A.weight": [4, 32],
          "base_model.model.bert.encoder.layer.1.attention.self.query.lora_B.weight": [32, 4],
          "base_model.model.bert.encoder.layer.1.attention.self.value.lora_A.weight": [4, 32],
          "base_model.model.bert.encoder.layer.1.attention.self.value.lora_B.weight": [32, 4],
          "base_model.model.classifier.weight": [2, 32],
          "base_model.model.classifier.bias": [2]
        }
        """;

    [Fact]
    public void Saved_keys_and_shapes_are_PEFTs()
    {
        using BertForSequenceClassification model = LoraTestModels.Classifier();
        model.BaseModelNameOrPath = "some/base";
        model.ApplyFreezePolicy(FreezePolicy.LoRA(rank: 4, alpha: 8, dropout: 0.05));
        string dir = LoraTestModels.TempFolder("keys");
        model.Adapters.Save(dir);

        var expected = JsonSerializer.Deserialize<Dictionary<string, long[]>>(Fixture)!;
        var actual = SafeTensors.ReadHeader(Path.Combine(dir, "adapter_model.safetensors")).Entries.ToDictionary(e => e.Name, e => e.Shape);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        Assert.All(expected, kv => Assert.Equal(kv.Value, actual[kv.Key]));

        JsonObject config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "adapter_config.json")))!.AsObject();
        Assert.Equal("LORA", (string?)config["peft_type"]);
        Assert.Equal("SEQ_CLS", (string?)config["task_type"]);
        Assert.Equal(4, (int)config["r"]!);
        Assert.Equal(8.0, (double)config["lora_alpha"]!);
        Assert.Equal(0.05, (double)config["lora_dropout"]!);
        Assert.Equal(["query", "value"], config["target_modules"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(["classifier"], config["modules_to_save"]!.AsArray().Select(n => (string)n!));
        Assert.Equal("some/base", (string?)config["base_model_name_or_path"]);
        Assert.Equal("none", (string?)config["bias"]);
        Assert.False(File.Exists(Path.Combine(dir, "model.safetensors")));
    }

    [Fact]
    public void Sentence_embedding_adapters_use_the_BertModel_paths_PEFT_sees()
    {
        using var embedder = new BertForSentenceEmbedding(new BertModel(TestSupport.TinyConfigs.Bert(), addPoolingLayer: false));
        embedder.ApplyFreezePolicy(FreezePolicy.LoRA(rank: 2, targets: LoraTargets.Output));
        string dir = LoraTestModels.TempFolder("embed");
        embedder.Adapters.Save(dir);
        Assert.Equal(
            ["base_model.model.encoder.layer.0.output.dense.lora_A.weight", "base_model.model.encoder.layer.0.output.dense.lora_B.weight"],
            SafeTensors.ReadHeader(Path.Combine(dir, "adapter_model.safetensors")).Entries.Select(e => e.Name).Where(n => n.Contains("layer.0", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        JsonObject config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "adapter_config.json")))!.AsObject();
        Assert.Equal("FEATURE_EXTRACTION", (string?)config["task_type"]);
        Assert.True(config["modules_to_save"] is null or JsonArray { Count: 0 }, $"an embedder has no head to save: modules_to_save is {config["modules_to_save"]?.ToJsonString()}");
        // Only the feed-forward output: a suffix list would also match attention.output.dense, so PEFT gets a full-match regex.
        string pattern = (string)config["target_modules"]!;
        Assert.Matches($"^(?:{pattern})$", "encoder.layer.3.output.dense");
        Assert.DoesNotMatch($"^(?:{pattern})$", "encoder.layer.3.attention.output.dense");
    }

    [Fact]
    public void A_folder_written_by_Python_PEFT_loads_with_its_names_and_extra_config_keys()
    {
        using BertForSequenceClassification source = LoraTestModels.Classifier();
        LoraTestModels.AddRandomAdapter(source, "default", new LoraOptions { Rank = 4, Alpha = 8, Dropout = 0 }, seed: 11);
        float[] expected = LoraTestModels.Logits(source);

        // What PeftModel.save_pretrained writes: the fixture's keys, and a config with PEFT's full key set.
        string dir = LoraTestModels.TempFolder("python");
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach ((string name, TorchSharp.Modules.Parameter p) in source.named_parameters())
        {
            if (name.Contains(".lora_", StringComparison.Ordinal) || name.StartsWith("classifier.", StringComparison.Ordinal))
            {
                tensors["base_model.model." + name.Replace(".default.", ".", StringComparison.Ordinal)] = p.detach();
            }
        }

        SafeTensors.Save(Path.Combine(dir, "adapter_model.safetensors"), tensors);
        File.WriteAllText(Path.Combine(dir, "adapter_config.json"), """
            {"alpha_pattern": {}, "auto_mapping": null, "base_model_name_or_path": "prajjwal1/bert-tiny", "bias": "none",
             "corda_config": null, "eva_config": null, "exclude_modules": null, "fan_in_fan_out": false, "inference_mode": true,
             "init_lora_weights": true, "layer_replication": null, "layers_pattern": null, "layers_to_transform": null,
             "loftq_config": {}, "lora_alpha": 8, "lora_bias": false, "lora_dropout": 0.1, "megatron_config": null,
             "megatron_core": "megatron.core", "modules_to_save": ["classifier", "score"], "peft_type": "LORA", "r": 4,
             "rank_pattern": {}, "revision": null, "target_modules": ["value", "query"], "task_type": "SEQ_CLS",
             "trainable_token_indices": null, "use_dora": false, "use_rslora": false}
            """);

        using BertForSequenceClassification target = LoraTestModels.Classifier();
        target.Adapters.Load(dir);
        LoraTestModels.AssertClose(expected, LoraTestModels.Logits(target), 1e-6);
        Assert.Equal("default", target.Adapters.Active);
    }

    [Fact]
    public void Save_and_load_round_trip_through_the_folder_and_through_FromPretrained_of_the_adapter_folder()
    {
        string baseDir = LoraTestModels.TempFolder("base");
        using (BertForSequenceClassification plain = LoraTestModels.Classifier())
        {
            plain.Bert.SavePretrained(baseDir);
        }

        using var model = BertForSequenceClassification.FromPretrained(baseDir, LoraTestModels.Labels);
        LoraTestModels.AddRandomAdapter(model, "sst", new LoraOptions { Rank = 4, Targets = LoraTargets.AllLinear }, seed: 3);
        float[] expected = LoraTestModels.Logits(model);
        string adapterDir = LoraTestModels.TempFolder("adapter");
        model.SavePretrained(adapterDir);

        using var other = BertForSequenceClassification.FromPretrained(baseDir, LoraTestModels.Labels);
        other.Adapters.Load(adapterDir, "sst");
        LoraTestModels.AssertClose(expected, LoraTestModels.Logits(other), 0);

        using var whole = BertForSequenceClassification.FromPretrained(adapterDir);
        Assert.Equal(LoraTestModels.Labels, whole.Labels);
        Assert.Empty(whole.NewlyInitializedKeys);
        LoraTestModels.AssertClose(expected, LoraTestModels.Logits(whole), 0);
    }

    [Fact]
    public void Bad_adapter_folders_are_refused_naming_the_file_and_key()
    {
        using BertForSequenceClassification model = LoraTestModels.Classifier();
        model.ApplyFreezePolicy(FreezePolicy.LoRA(rank: 4));
        string good = LoraTestModels.TempFolder("good");
        model.Adapters.Save(good);

        string wrongType = Copy(good, "type", json => json.Replace("\"LORA\"", "\"IA3\"", StringComparison.Ordinal));
        var e1 = Assert.Throws<InvalidDataException>(() => Fresh().Adapters.Load(wrongType));
        Assert.Contains("peft_type", e1.Message, StringComparison.Ordinal);
        Assert.Contains("adapter_config.json", e1.Message, StringComparison.Ordinal);

        string wrongRank = Copy(good, "rank", json => json.Replace("\"r\": 4", "\"r\": 8", StringComparison.Ordinal));
        var e2 = Assert.Throws<InvalidDataException>(() => Fresh().Adapters.Load(wrongRank));
        Assert.Contains("lora_A.weight", e2.Message, StringComparison.Ordinal);
        Assert.Contains("[4, 32]", e2.Message, StringComparison.Ordinal);

        string dora = Copy(good, "dora", json => json.Replace("\"use_dora\": false", "\"use_dora\": true", StringComparison.Ordinal));
        Assert.Contains("use_dora", Assert.Throws<InvalidDataException>(() => Fresh().Adapters.Load(dora)).Message, StringComparison.Ordinal);

        string noWeights = Copy(good, "noweights", json => json);
        File.Delete(Path.Combine(noWeights, "adapter_model.safetensors"));
        Assert.Contains("adapter_model.safetensors", Assert.Throws<FileNotFoundException>(() => Fresh().Adapters.Load(noWeights)).Message, StringComparison.Ordinal);

        Assert.Contains("adapter_config.json", Assert.Throws<FileNotFoundException>(() => Fresh().Adapters.Load(LoraTestModels.TempFolder("empty"))).Message, StringComparison.Ordinal);

        string wrongTargets = Copy(good, "targets", json => json.Replace("\"query\"", "\"key\"", StringComparison.Ordinal));
        var e3 = Assert.Throws<InvalidDataException>(() => Fresh().Adapters.Load(wrongTargets));
        Assert.Contains("attention.self.key.lora_A.weight", e3.Message, StringComparison.Ordinal);
    }

    private static BertForSequenceClassification Fresh() => LoraTestModels.Classifier();

    private static string Copy(string from, string name, Func<string, string> editConfig)
    {
        string to = LoraTestModels.TempFolder(name);
        File.Copy(Path.Combine(from, "adapter_model.safetensors"), Path.Combine(to, "adapter_model.safetensors"));
        File.WriteAllText(Path.Combine(to, "adapter_config.json"), editConfig(File.ReadAllText(Path.Combine(from, "adapter_config.json"))));
        return to;
    }
}
