using System.Text.Json.Nodes;
using Bert.Sharp.Checkpoints;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Adapters;

/// <summary>
/// Issue 21, rows 1, 2 and 4–6: adapter folders are untrusted input. Every hostile folder is refused with
/// <see cref="InvalidDataException"/> naming the file and the key, before the base model is loaded where the folder's
/// own files say enough.
/// </summary>
public sealed class HostileAdapterFolderTests : IDisposable
{
    private readonly string baseDir = LoraTestModels.TempFolder("hostile-base");
    private readonly string adapterDir = LoraTestModels.TempFolder("hostile-adapter");
    private readonly List<string> extra = [];

    public HostileAdapterFolderTests()
    {
        using (BertForSequenceClassification plain = LoraTestModels.Classifier())
        {
            plain.Bert.SavePretrained(baseDir);
        }

        using var model = BertForSequenceClassification.FromPretrained(baseDir, LoraTestModels.Labels);
        LoraTestModels.AddRandomAdapter(model, "default", new LoraOptions { Rank = 4 }, seed: 5);
        model.SavePretrained(adapterDir);
    }

    private string ConfigPath => Path.Combine(adapterDir, "adapter_config.json");

    private string WeightsPath => Path.Combine(adapterDir, "adapter_model.safetensors");

    public void Dispose()
    {
        foreach (string dir in extra.Append(baseDir).Append(adapterDir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void The_unmodified_folder_loads()
    {
        using var model = BertForSequenceClassification.FromPretrained(adapterDir);
        Assert.Equal(LoraTestModels.Labels, model.Labels);
    }

    // Row 1: on f4b9558 each of these recursed until "Stack overflow." killed the process.
    [Theory]
    [InlineData("relative")]
    [InlineData("absolute")]
    [InlineData("beside")]
    public void An_adapter_naming_its_own_folder_as_base_is_refused(string how)
    {
        // As Transformers does, a relative name is a folder of the working directory first, then one beside the adapter.
        string self = how switch
        {
            "relative" => Path.GetRelativePath(Environment.CurrentDirectory, adapterDir),
            "beside" => Path.Combine("..", Path.GetFileName(adapterDir)),
            _ => adapterDir,
        };
        EditConfig(json => json["base_model_name_or_path"] = self);
        AssertRefused(() => BertForSequenceClassification.FromPretrained(adapterDir).Dispose(), ConfigPath, "base_model_name_or_path");
        AssertRefused(() => BertForTokenClassification.FromPretrained(adapterDir).Dispose(), ConfigPath, "base_model_name_or_path");
        AssertRefused(() => TextClassifier.FromPretrained(adapterDir).Dispose(), ConfigPath, "base_model_name_or_path");
    }

    [Fact]
    public void A_cycle_of_two_adapter_folders_is_refused()
    {
        string other = CopyOfAdapter("cycle-b");
        EditConfig(json => json["base_model_name_or_path"] = other);
        EditConfig(json => json["base_model_name_or_path"] = adapterDir, Path.Combine(other, "adapter_config.json"));
        AssertRefused(() => BertForSequenceClassification.FromPretrained(adapterDir).Dispose(), ConfigPath, "base_model_name_or_path");
        AssertRefused(() => TextClassifier.FromPretrained(other).Dispose(), Path.Combine(other, "adapter_config.json"), "base_model_name_or_path");
    }

    [Fact]
    public void A_long_chain_of_adapter_folders_is_refused_at_its_first_link()
    {
        string next = baseDir;
        var chain = new List<string>();
        for (int i = 0; i < 50; i++)
        {
            string link = CopyOfAdapter($"chain-{i}");
            EditConfig(json => json["base_model_name_or_path"] = next, Path.Combine(link, "adapter_config.json"));
            chain.Add(link);
            next = link;
        }

        var e = AssertRefused(() => BertForSequenceClassification.FromPretrained(next).Dispose(), Path.Combine(next, "adapter_config.json"), "base_model_name_or_path");
        Assert.Contains("adapter folder itself", e.Message, StringComparison.Ordinal);

        // The first link, over a model, is an ordinary adapter folder.
        using var first = BertForSequenceClassification.FromPretrained(chain[0]);
        Assert.Equal(LoraTestModels.Labels, first.Labels);
    }

    // Row 2: on f4b9558 a head of shape [2000000000, 0] (no bytes) made two billion LABEL_i strings (RSS past 6 GB).
    [Fact]
    public void A_head_shape_that_is_not_paid_for_by_the_file_is_refused_before_any_label_exists()
    {
        RewriteWeights((tensors, metadata) =>
        {
            metadata.Remove("bert_sharp.labels");
            tensors["base_model.model.classifier.weight"].Dispose();
            tensors["base_model.model.classifier.weight"] = empty(2_000_000_000L, 0L);
        });
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = AssertRefused(() => BertForSequenceClassification.FromPretrained(adapterDir).Dispose(), WeightsPath, "base_model.model.classifier.weight");
        Assert.Contains("[2000000000, 0]", e.Message, StringComparison.Ordinal);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 16 << 20);
        AssertRefused(() => BertForTokenClassification.FromPretrained(adapterDir).Dispose(), WeightsPath, "base_model.model.classifier.weight");
    }

    [Fact]
    public void Recorded_labels_must_match_the_heads_rows_and_be_distinct()
    {
        RewriteWeights((_, metadata) => metadata["bert_sharp.labels"] = "[\"a\", \"b\", \"c\"]");
        var e = AssertRefused(() => BertForSequenceClassification.FromPretrained(adapterDir).Dispose(), WeightsPath, "bert_sharp.labels");
        Assert.Contains("3 labels", e.Message, StringComparison.Ordinal);

        RewriteWeights((_, metadata) => metadata["bert_sharp.labels"] = "[\"a\", \"a\"]");
        AssertRefused(() => BertForSequenceClassification.FromPretrained(adapterDir).Dispose(), WeightsPath, "bert_sharp.labels");

        RewriteWeights((_, metadata) => metadata["bert_sharp.problem_type"] = "ranking");
        RewriteWeights((_, metadata) => metadata["bert_sharp.labels"] = "[\"a\", \"b\"]");
        AssertRefused(() => BertForSequenceClassification.FromPretrained(adapterDir).Dispose(), WeightsPath, "bert_sharp.problem_type");
    }

    // Row 4: on f4b9558 these loaded silently and changed predictions.
    [Theory]
    [InlineData("lora_alpha", -16.0)]
    [InlineData("lora_alpha", 0.0)]
    [InlineData("lora_alpha", 1e300)]
    [InlineData("lora_dropout", 5.0)]
    [InlineData("lora_dropout", -1.0)]
    [InlineData("lora_dropout", 1.0)]
    [InlineData("r", 0.0)]
    [InlineData("r", -4.0)]
    [InlineData("r", 2.5)]
    public void Lora_values_that_LoraOptions_refuses_are_refused_from_the_file(string key, double value)
    {
        EditConfig(json => json[key] = value);
        AssertRefused(() => BertForSequenceClassification.FromPretrained(adapterDir).Dispose(), ConfigPath, key);
        using BertForSequenceClassification model = LoraTestModels.Classifier();
        AssertRefused(() => model.Adapters.Load(adapterDir), ConfigPath, key);
    }

    [Fact]
    public void LoraOptions_refuses_an_alpha_whose_scale_overflows()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LoraOptions { Alpha = 1e300 }.Validate());
        new LoraOptions { Alpha = 1e6 }.Validate();
    }

    // Row 5: on f4b9558 every score became NaN, or scores changed silently.
    [Theory]
    [InlineData("base_model.model.classifier.weight", float.NaN)]
    [InlineData("base_model.model.classifier.bias", float.PositiveInfinity)]
    [InlineData("base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight", float.NaN)]
    [InlineData("base_model.model.bert.encoder.layer.1.attention.self.value.lora_B.weight", float.PositiveInfinity)]
    [InlineData("base_model.model.bert.encoder.layer.1.attention.self.value.lora_B.weight", float.NegativeInfinity)]
    public void A_non_finite_weight_in_the_adapter_is_refused_naming_the_tensor(string key, float value)
    {
        RewriteWeights((tensors, _) =>
        {
            using var noGrad = no_grad();
            tensors[key].view(-1)[0] = value;
        });
        var e = AssertRefused(() => BertForSequenceClassification.FromPretrained(adapterDir).Dispose(), WeightsPath, key);
        Assert.Contains("non-finite", e.Message, StringComparison.Ordinal);
        using BertForSequenceClassification model = LoraTestModels.Classifier();
        AssertRefused(() => model.Adapters.Load(adapterDir), WeightsPath, key);
    }

    [Fact]
    public void A_non_finite_base_weight_is_refused_naming_the_tensor()
    {
        string file = Path.Combine(baseDir, "model.safetensors");
        Dictionary<string, Tensor> tensors = SafeTensors.Load(file);
        using (no_grad())
        {
            tensors["encoder.layer.1.output.dense.weight"].view(-1)[7] = float.NaN;
        }

        SafeTensors.Save(file, tensors);
        foreach (Tensor t in tensors.Values)
        {
            t.Dispose();
        }

        AssertRefused(() => BertForSequenceClassification.FromPretrained(adapterDir).Dispose(), file, "encoder.layer.1.output.dense.weight");
        AssertRefused(() => BertModel.FromPretrained(baseDir).Dispose(), file, "encoder.layer.1.output.dense.weight");
    }

    // Row 6: on f4b9558 these escaped as RegexParseException, RegexMatchTimeoutException, ArgumentException, JsonException.
    [Theory]
    [InlineData("(unclosed")]
    [InlineData("[z-a]")]
    [InlineData("*query")]
    public void An_invalid_target_modules_regex_is_refused_naming_the_file_and_key(string pattern)
    {
        EditConfig(json => json["target_modules"] = pattern);
        var e = AssertRefused(() => BertForSequenceClassification.FromPretrained(adapterDir).Dispose(), ConfigPath, "target_modules");
        Assert.IsAssignableFrom<ArgumentException>(e.InnerException);
    }

    [Fact]
    public void A_catastrophic_target_modules_regex_times_out_as_invalid_data()
    {
        // Nested quantifiers that never match: exponential backtracking on the 40-character module names.
        EditConfig(json => json["target_modules"] = "(([a-z.0-9_]+)*)+!");
        var e = AssertRefused(() => BertForSequenceClassification.FromPretrained(adapterDir).Dispose(), ConfigPath, "target_modules");
        Assert.IsType<System.Text.RegularExpressions.RegexMatchTimeoutException>(e.InnerException);
    }

    [Fact]
    public void A_key_given_twice_is_refused_naming_it()
    {
        string json = File.ReadAllText(ConfigPath);
        File.WriteAllText(ConfigPath, json.Replace("\"r\": 4,", "\"r\": 4, \"r\": 64,", StringComparison.Ordinal));
        Assert.Contains("\"r\": 64", File.ReadAllText(ConfigPath), StringComparison.Ordinal);
        var e = AssertRefused(() => BertForSequenceClassification.FromPretrained(adapterDir).Dispose(), ConfigPath, "'r'");
        Assert.Contains("twice", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Labels_metadata_that_is_not_json_is_refused_naming_the_file_and_key()
    {
        RewriteWeights((_, metadata) => metadata["bert_sharp.labels"] = "negative, positive");
        AssertRefused(() => BertForSequenceClassification.FromPretrained(adapterDir).Dispose(), WeightsPath, "bert_sharp.labels");
        RewriteWeights((_, metadata) => metadata["bert_sharp.labels"] = "{\"a\": 1}");
        AssertRefused(() => BertForTokenClassification.FromPretrained(adapterDir).Dispose(), WeightsPath, "bert_sharp.labels");
    }

    [Fact]
    public void An_oversized_config_file_is_refused_without_reading_it()
    {
        File.WriteAllText(ConfigPath, "{\"pad\": \"" + new string('x', 2 << 20) + "\"}");
        AssertRefused(() => BertForSequenceClassification.FromPretrained(adapterDir).Dispose(), ConfigPath, "bytes");
    }

    internal static InvalidDataException AssertRefused(Action load, string file, string key)
    {
        var e = Assert.Throws<InvalidDataException>(load);
        Assert.Contains(file, e.Message, StringComparison.Ordinal);
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
        return e;
    }

    private void EditConfig(Action<JsonObject> edit, string? path = null)
    {
        path ??= ConfigPath;
        var json = (JsonObject)JsonNode.Parse(File.ReadAllText(path))!;
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    private void RewriteWeights(Action<Dictionary<string, Tensor>, Dictionary<string, string>> edit)
    {
        (_, IReadOnlyDictionary<string, string> read) = SafeTensors.ReadHeader(WeightsPath);
        var metadata = new Dictionary<string, string>(read, StringComparer.Ordinal);
        Dictionary<string, Tensor> tensors = SafeTensors.Load(WeightsPath);
        edit(tensors, metadata);
        SafeTensors.Save(WeightsPath, tensors, metadata);
        foreach (Tensor t in tensors.Values)
        {
            t.Dispose();
        }
    }

    private string CopyOfAdapter(string name)
    {
        string to = LoraTestModels.TempFolder(name);
        extra.Add(to);
        foreach (string file in Directory.GetFiles(adapterDir))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        return to;
    }
}
