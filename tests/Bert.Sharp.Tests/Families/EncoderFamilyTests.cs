using System.Text.Json.Nodes;
using Bert.Sharp.Tests.TestSupport;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Families;

/// <summary>RoBERTa, XLM-RoBERTa and DistilBERT: Hugging Face's parameter names, config keys, saved folders and refusals.</summary>
public sealed class EncoderFamilyTests
{
    private static BertConfig Tiny(string modelType) => TinyConfigs.Bert() with
    {
        ModelType = modelType,
        PadTokenId = modelType is "roberta" or "xlm-roberta" ? 1 : 0,
        TypeVocabSize = modelType == "distilbert" ? 0 : modelType is "roberta" or "xlm-roberta" ? 1 : 2,
    };

    [Fact]
    public void Roberta_classifier_has_hugging_face_names_and_no_pooler()
    {
        using var model = new BertForSequenceClassification(Tiny("roberta"), ["neg", "pos"]);
        string[] keys = [.. model.state_dict().Keys];
        Assert.Contains("roberta.embeddings.word_embeddings.weight", keys);
        Assert.Contains("roberta.embeddings.token_type_embeddings.weight", keys);
        Assert.Contains("roberta.encoder.layer.1.attention.self.query.weight", keys);
        Assert.Contains("roberta.encoder.layer.1.output.LayerNorm.bias", keys);
        Assert.Contains("classifier.dense.weight", keys);
        Assert.Contains("classifier.out_proj.weight", keys);
        Assert.Contains("classifier.out_proj.bias", keys);
        Assert.DoesNotContain(keys, k => k.StartsWith("bert.", StringComparison.Ordinal) || k.Contains("pooler", StringComparison.Ordinal));
        Assert.Equal(["embeddings", "encoder.layer.0", "encoder.layer.1", "classifier"], model.Units.Select(u => u.Name));
        Assert.Equal(keys.Order(StringComparer.Ordinal), model.Units.SelectMany(u => u.NamedParameters()).Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Distilbert_classifier_has_hugging_face_names()
    {
        using var model = new BertForSequenceClassification(Tiny("distilbert"), ["neg", "pos"]);
        string[] keys = [.. model.state_dict().Keys];
        string[] expected =
        [
            "distilbert.embeddings.word_embeddings.weight", "distilbert.embeddings.position_embeddings.weight", "distilbert.embeddings.LayerNorm.weight",
            "distilbert.transformer.layer.0.attention.q_lin.weight", "distilbert.transformer.layer.0.attention.k_lin.bias", "distilbert.transformer.layer.0.attention.v_lin.weight",
            "distilbert.transformer.layer.0.attention.out_lin.weight", "distilbert.transformer.layer.0.sa_layer_norm.weight", "distilbert.transformer.layer.0.ffn.lin1.weight",
            "distilbert.transformer.layer.0.ffn.lin2.bias", "distilbert.transformer.layer.0.output_layer_norm.bias", "pre_classifier.weight", "pre_classifier.bias",
            "classifier.weight", "classifier.bias",
        ];
        Assert.All(expected, k => Assert.Contains(k, keys));
        Assert.DoesNotContain(keys, k => k.Contains("token_type", StringComparison.Ordinal) || k.Contains("pooler", StringComparison.Ordinal));
        Assert.Equal(keys.Order(StringComparer.Ordinal), model.Units.SelectMany(u => u.NamedParameters()).Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("transformer.layer.1", model.Units[2].Name);
    }

    [Fact]
    public void Roberta_positions_count_real_tokens_after_the_padding_index()
    {
        using Tensor ids = tensor(new long[,] { { 0, 5, 6, 2, 1, 1 }, { 1, 0, 7, 2, 1, 1 } });
        using Tensor positions = BertEmbeddings.PositionIdsAfterPadding(ids, 1);
        Assert.Equal(new long[] { 2, 3, 4, 5, 1, 1, 1, 2, 3, 4, 1, 1 }, positions.data<long>().ToArray());
    }

    [Fact]
    public void Padding_does_not_change_a_roberta_prediction()
    {
        using var model = new BertForSequenceClassification(Tiny("roberta"), ["neg", "pos"]);
        model.eval();
        using var noGrad = no_grad();
        using Tensor alone = tensor(new long[,] { { 0, 5, 6, 7, 2 } });
        using Tensor padded = tensor(new long[,] { { 0, 5, 6, 7, 2, 1, 1 } });
        using Tensor mask = tensor(new long[,] { { 1, 1, 1, 1, 1, 0, 0 } });
        using SequenceClassifierOutput a = model.Forward(alone);
        using SequenceClassifierOutput b = model.Forward(padded, mask);
        Assert.True(a.Logits.allclose(b.Logits, rtol: 1e-5, atol: 1e-5));
    }

    [Theory]
    [InlineData("roberta", "RobertaForSequenceClassification")]
    [InlineData("xlm-roberta", "XLMRobertaForSequenceClassification")]
    [InlineData("distilbert", "DistilBertForSequenceClassification")]
    public void Sequence_classifiers_round_trip_through_a_saved_folder(string modelType, string architecture)
    {
        string dir = TestTemp.NewDirectory("family");
        try
        {
            using var model = new BertForSequenceClassification(Tiny(modelType), ["neg", "pos", "mid"]);
            model.eval();
            model.SavePretrained(dir);
            JsonObject config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
            Assert.Equal(modelType, config["model_type"]!.GetValue<string>());
            Assert.Equal(architecture, config["architectures"]![0]!.GetValue<string>());
            if (modelType == "distilbert")
            {
                Assert.Equal(32, config["dim"]!.GetValue<int>());
                Assert.Equal(2, config["n_layers"]!.GetValue<int>());
                Assert.False(config.ContainsKey("hidden_size"));
            }

            using var loaded = BertForSequenceClassification.FromPretrained(dir);
            Assert.Empty(loaded.NewlyInitializedKeys);
            Assert.Equal(["neg", "pos", "mid"], loaded.Labels);
            using var noGrad = no_grad();
            using Tensor ids = tensor(new long[,] { { 0, 5, 6, 7, 2, 1 }, { 0, 9, 2, 1, 1, 1 } });
            using Tensor mask = tensor(new long[,] { { 1, 1, 1, 1, 1, 0 }, { 1, 1, 1, 0, 0, 0 } });
            using SequenceClassifierOutput expected = model.Forward(ids, mask);
            using SequenceClassifierOutput actual = loaded.Forward(ids, mask);
            Assert.True(expected.Logits.allclose(actual.Logits, rtol: 0, atol: 1e-6));
            Assert.Equal(model.state_dict().Keys.Order(StringComparer.Ordinal), loaded.state_dict().Keys.Order(StringComparer.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("roberta", "RobertaForTokenClassification")]
    [InlineData("distilbert", "DistilBertForTokenClassification")]
    public void Token_classifiers_round_trip_through_a_saved_folder(string modelType, string architecture)
    {
        string dir = TestTemp.NewDirectory("family");
        try
        {
            using var model = new BertForTokenClassification(Tiny(modelType), ["O", "B-X", "I-X"]);
            model.eval();
            model.SavePretrained(dir);
            JsonObject config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
            Assert.Equal(architecture, config["architectures"]![0]!.GetValue<string>());
            using var loaded = BertForTokenClassification.FromPretrained(dir);
            Assert.Empty(loaded.LoadReport!.MissingKeys);
            Assert.Contains($"{(modelType == "distilbert" ? "distilbert.transformer" : "roberta.encoder")}.layer.0.{(modelType == "distilbert" ? "attention.q_lin" : "attention.self.query")}.weight", loaded.state_dict().Keys);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Unsupported_families_and_settings_are_refused_naming_the_file_and_key()
    {
        string dir = TestTemp.NewDirectory("family");
        try
        {
            string file = Path.Combine(dir, "config.json");
            File.WriteAllText(file, """{"model_type": "deberta-v2", "vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64}""");
            var e = Assert.Throws<NotSupportedException>(() => BertConfig.Load(dir));
            Assert.Contains(file, e.Message, StringComparison.Ordinal);
            Assert.Contains("model_type 'deberta-v2'", e.Message, StringComparison.Ordinal);

            File.WriteAllText(file, """{"model_type": "distilbert", "vocab_size": 100, "dim": 32, "n_layers": 2, "n_heads": 4, "hidden_dim": 64, "sinusoidal_pos_embds": true}""");
            e = Assert.Throws<NotSupportedException>(() => BertConfig.Load(dir));
            Assert.Contains(file, e.Message, StringComparison.Ordinal);
            Assert.Contains("sinusoidal_pos_embds", e.Message, StringComparison.Ordinal);

            File.WriteAllText(file, """{"model_type": "distilbert", "vocab_size": 100, "dim": 32, "n_layers": 2, "n_heads": 4, "hidden_dim": 64, "activation": "gelu", "dropout": 0.1, "attention_dropout": 0.1, "seq_classif_dropout": 0.2}""");
            BertConfig config = BertConfig.Load(dir);
            Assert.Equal(EncoderFamily.DistilBert, config.Family);
            Assert.Equal(32, config.HiddenSize);
            Assert.Equal(64, config.IntermediateSize);
            Assert.Equal(0.2, config.ClassifierDropout);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
