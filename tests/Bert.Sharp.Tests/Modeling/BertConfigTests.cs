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
        string dir = TestAssets.NewTempDirectory("config");
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
    [InlineData("""[1, 2]""", "valid BERT config")]
    public void Invalid_configs_name_the_key(string json, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => BertConfig.FromJson(json));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_and_corrupt_files_name_the_file()
    {
        string dir = TestAssets.NewTempDirectory("config");
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
