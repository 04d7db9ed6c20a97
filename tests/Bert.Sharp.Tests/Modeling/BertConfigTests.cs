using System.Text.Json;
using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Tests.Modeling;

public class BertConfigTests
{
    private const string HuggingFaceConfig = """
        {
          "_name_or_path": "bert-base-uncased",
          "architectures": ["BertForSequenceClassification"],
          "attention_probs_dropout_prob": 0.1,
          "classifier_dropout": null,
          "gradient_checkpointing": false,
          "hidden_act": "gelu",
          "hidden_dropout_prob": 0.1,
          "hidden_size": 768,
          "id2label": { "0": "NEGATIVE", "1": "POSITIVE" },
          "initializer_range": 0.02,
          "intermediate_size": 3072,
          "label2id": { "NEGATIVE": 0, "POSITIVE": 1 },
          "layer_norm_eps": 1e-12,
          "max_position_embeddings": 512,
          "model_type": "bert",
          "num_attention_heads": 12,
          "num_hidden_layers": 12,
          "pad_token_id": 0,
          "position_embedding_type": "absolute",
          "problem_type": "single_label_classification",
          "transformers_version": "4.44.0",
          "type_vocab_size": 2,
          "use_cache": true,
          "vocab_size": 30522
        }
        """;

    [Fact]
    public void Reads_a_hugging_face_config()
    {
        var config = BertConfig.FromJson(HuggingFaceConfig);
        Assert.Equal(768, config.HiddenSize);
        Assert.Equal(12, config.NumHiddenLayers);
        Assert.Equal(64, config.HeadSize);
        Assert.Equal(1e-12, config.LayerNormEps);
        Assert.Equal("POSITIVE", config.Id2Label![1]);
        Assert.Equal(0, config.Label2Id!["NEGATIVE"]);
        Assert.Equal(2, config.NumLabels);
        Assert.Equal("single_label_classification", config.ProblemType);
        Assert.Equal(["BertForSequenceClassification"], config.Architectures!);
    }

    [Fact]
    public void Round_trip_keeps_every_key_and_value()
    {
        var config = BertConfig.FromJson(HuggingFaceConfig);
        using var original = JsonDocument.Parse(HuggingFaceConfig);
        using var written = JsonDocument.Parse(config.ToJson());
        foreach (var property in original.RootElement.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                continue; // null values are dropped, which Hugging Face reads as the default (null)
            }

            Assert.True(written.RootElement.TryGetProperty(property.Name, out var value), $"key {property.Name} lost");
            Assert.True(JsonElement.DeepEquals(property.Value, value), $"{property.Name}: {property.Value} became {value}");
        }
    }

    [Fact]
    public void Save_and_load_through_a_file()
    {
        string dir = TestTemp.NewDirectory("config");
        try
        {
            var config = TinyConfigs.Bert() with { Id2Label = new Dictionary<int, string> { [0] = "a", [1] = "b", [2] = "c" } };
            config.Save(dir);
            var loaded = BertConfig.Load(dir);
            Assert.Equal(config.HiddenSize, loaded.HiddenSize);
            Assert.Equal(3, loaded.NumLabels);
            Assert.Equal("c", loaded.Id2Label![2]);
            Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private const string Required = "\"vocab_size\": 100, \"hidden_size\": 32, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"intermediate_size\": 64";

    [Theory]
    [InlineData("""{"hidden_size": 100, "num_attention_heads": 12}""", "not divisible")]
    [InlineData("""{"vocab_size": 0}""", "vocab_size")]
    [InlineData("""{"hidden_act": "tanhh"}""", "hidden_act 'tanhh'")]
    [InlineData("""{"hidden_dropout_prob": 1.5}""", "hidden_dropout_prob")]
    [InlineData("""{"layer_norm_eps": -1}""", "layer_norm_eps")]
    [InlineData("""{"pad_token_id": 40000}""", "pad_token_id")]
    [InlineData("""{"position_embedding_type": "relative_key"}""", "position_embedding_type")]
    [InlineData("""{"id2label": {"0": "a", "2": "c"}}""", "no label for class 1")]
    [InlineData("""{"attn_implementation": "flash_attention_9"}""", "attn_implementation")]
    [InlineData("""{"hidden_size": "big"}""", "hidden_size")]
    [InlineData("""{"vocab_size": 100000000}""", "vocab_size is 100000000; at most 10000000 is supported")]
    [InlineData("""{"num_hidden_layers": 100000}""", "num_hidden_layers is 100000; at most 1024")]
    [InlineData("""{"hidden_size": 65536, "num_attention_heads": 1, "intermediate_size": 1048576, "num_hidden_layers": 24}""", "more than the 4,000,000,000 this library builds")]
    [InlineData("""{"model_type": 7}""", "model_type must be a string")]
    public void Invalid_configs_name_the_key(string json, string expected)
    {
        // Later keys win, so each case overrides the required keys it is about.
        string full = "{" + Required + ", " + json.TrimStart()[1..];
        var e = Assert.Throws<InvalidDataException>(() => BertConfig.FromJson(full));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""[1, 2]""", "is JSON Array, not a BERT config object")]
    [InlineData("""null""", "is JSON Null")]
    [InlineData("""{"vocab_size": 1""", "not a valid BERT config")]
    public void Non_objects_are_refused(string json, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => BertConfig.FromJson(json));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("vocab_size")]
    [InlineData("hidden_size")]
    [InlineData("num_hidden_layers")]
    [InlineData("num_attention_heads")]
    [InlineData("intermediate_size")]
    public void A_config_file_without_a_required_key_names_the_file_and_the_key(string key)
    {
        string dir = TestTemp.NewDirectory("config");
        try
        {
            using JsonDocument full = JsonDocument.Parse(HuggingFaceConfig);
            var without = full.RootElement.EnumerateObject().Where(p => p.Name != key).ToDictionary(p => p.Name, p => p.Value);
            string file = Path.Combine(dir, "config.json");
            File.WriteAllText(file, JsonSerializer.Serialize(without));
            var e = Assert.Throws<InvalidDataException>(() => BertConfig.Load(dir));
            Assert.Contains(file, e.Message, StringComparison.Ordinal);
            Assert.Contains($"lacks the required key '{key}'", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_config_without_model_type_is_read_as_bert_and_bert_sharp_is_accepted()
    {
        string json = "{" + Required + "}";
        Assert.Equal("bert", BertConfig.FromJson(json).ModelType);
        Assert.Equal("bert_sharp", BertConfig.FromJson("{" + Required + ", \"model_type\": \"bert_sharp\"}").ModelType);
    }

    [Fact]
    public void Configs_made_in_code_keep_their_defaults_and_are_bounded_too()
    {
        var config = new BertConfig { HiddenSize = 128, NumAttentionHeads = 2 };
        config.Validate();
        Assert.Equal(30522, config.VocabSize);
        Assert.Equal(12, config.NumHiddenLayers);
        Assert.Equal(config, BertConfig.FromJson(config.ToJson()) with { ExtensionData = config.ExtensionData });

        var huge = new BertConfig { VocabSize = 100_000_000 };
        var e = Assert.Throws<ArgumentException>(huge.Validate);
        Assert.Contains("vocab_size is 100000000", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new BertConfig { ModelType = "deberta-v2" }.Validate());
    }

    [Fact]
    public void A_config_file_over_the_size_cap_is_refused_unread()
    {
        string dir = TestTemp.NewDirectory("config");
        try
        {
            string file = Path.Combine(dir, "config.json");
            using (FileStream stream = File.Create(file))
            {
                stream.SetLength((16 << 20) + 1);
            }

            var e = Assert.Throws<InvalidDataException>(() => BertConfig.Load(file));
            Assert.Contains(file, e.Message, StringComparison.Ordinal);
            Assert.Contains("read up to 16777216 bytes", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Missing_and_corrupt_files_name_the_file()
    {
        string dir = TestTemp.NewDirectory("config");
        try
        {
            var missing = Assert.Throws<FileNotFoundException>(() => BertConfig.Load(dir));
            Assert.Contains("config.json", missing.Message, StringComparison.Ordinal);
            string file = Path.Combine(dir, "config.json");
            File.WriteAllText(file, "{ \"hidden_size\": 12, ");
            var corrupt = Assert.Throws<InvalidDataException>(() => BertConfig.Load(file));
            Assert.Contains(file, corrupt.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
