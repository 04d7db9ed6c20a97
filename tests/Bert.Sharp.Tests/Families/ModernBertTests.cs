using System.Text.Json;
using System.Text.Json.Nodes;
using Bert.Sharp.Modeling;
using Bert.Sharp.Tests.TestSupport;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Families;

/// <summary>
/// ModernBERT (model_type modernbert): config keys read with transformers' defaults (both config formats), refusals naming the
/// key, Hugging Face's parameter names loaded strictly, and conformance: folders saved here (wide-spread random weights, a
/// window of 8 under sequences of 20, padded) read by the plain-PyTorch mirror of modeling_modernbert.py in
/// tests/python/hf_mirror.py give the same last hidden states, sequence and token classification logits within 1e-4.
/// </summary>
[Collection(Training.SerialTorchGroup.Name)]
public sealed class ModernBertTests
{
    private const float Tolerance = 1e-4f;

    /// <summary>A tiny ModernBERT: 3 layers, layers 0 and 2 global (global_attn_every_n_layers 2), layer 1 local with a window of 8.</summary>
    internal static BertConfig Config(int vocab = 100, bool biases = false, string pooling = "cls", string activation = "gelu", int pad = 0) => new()
    {
        ModelType = "modernbert",
        VocabSize = vocab,
        HiddenSize = 32,
        NumHiddenLayers = 3,
        NumAttentionHeads = 4,
        IntermediateSize = 48,
        MaxPositionEmbeddings = 128,
        HiddenAct = activation,
        HiddenDropoutProb = 0,
        AttentionProbsDropoutProb = 0,
        ClassifierDropout = 0,
        LayerNormEps = 1e-5,
        PadTokenId = pad,
        TypeVocabSize = 0,
        ExtensionData = new Dictionary<string, JsonElement>
        {
            ["local_attention"] = JsonSerializer.SerializeToElement(8),
            ["global_attn_every_n_layers"] = JsonSerializer.SerializeToElement(2),
            ["global_rope_theta"] = JsonSerializer.SerializeToElement(160000.0),
            ["local_rope_theta"] = JsonSerializer.SerializeToElement(10000.0),
            ["norm_bias"] = JsonSerializer.SerializeToElement(biases),
            ["attention_bias"] = JsonSerializer.SerializeToElement(biases),
            ["mlp_bias"] = JsonSerializer.SerializeToElement(biases),
            ["classifier_bias"] = JsonSerializer.SerializeToElement(biases),
            ["classifier_pooling"] = JsonSerializer.SerializeToElement(pooling),
        },
    };

    [Fact]
    public void Model_type_modernbert_is_its_own_family_with_hugging_face_names()
    {
        Assert.Same(EncoderFamily.ModernBert, EncoderFamily.FromModelType("modernbert"));
        Assert.Contains(EncoderFamily.ModernBert, EncoderFamily.All);
        using var model = new BertModel(Config(biases: true));
        string[] keys = [.. model.state_dict().Keys];
        Assert.Contains("embeddings.tok_embeddings.weight", keys);
        Assert.Contains("embeddings.norm.bias", keys);
        Assert.DoesNotContain("layers.0.attn_norm.weight", keys); // Identity in layer 0
        Assert.Contains("layers.1.attn_norm.weight", keys);
        Assert.Contains("layers.2.attn.Wqkv.weight", keys);
        Assert.Contains("layers.2.mlp.Wi.bias", keys);
        Assert.Contains("final_norm.weight", keys);
        Assert.DoesNotContain(keys, k => k.Contains("position", StringComparison.Ordinal) || k.Contains("pooler", StringComparison.Ordinal));
        Assert.Equal([96, 32], model.state_dict()["layers.0.attn.Wqkv.weight"].shape);
        Assert.Equal([96, 32], model.state_dict()["layers.0.mlp.Wi.weight"].shape);
        Assert.Equal(["embeddings", "layers.0", "layers.1", "layers.2", "final_norm"], model.Units.Select(u => u.Name));

        // Hugging Face's defaults: no biases anywhere.
        using var plain = new BertModel(Config());
        Assert.DoesNotContain(plain.state_dict().Keys, k => k.EndsWith(".bias", StringComparison.Ordinal));
        Assert.Equal(
            global::Bert.Sharp.Checkpoints.ConfigShapes.Of(Config()).OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}:{string.Join('x', kv.Value)}"),
            plain.state_dict().OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}:{string.Join('x', kv.Value.shape)}"));
    }

    [Fact]
    public void A_transformers_config_json_is_read_with_its_defaults_in_both_formats()
    {
        // transformers 5's format: layer_types and rope_parameters.
        BertConfig modern = BertConfig.FromJson("""
            {"model_type": "modernbert", "architectures": ["ModernBertForMaskedLM"], "vocab_size": 50368, "hidden_size": 768,
             "num_hidden_layers": 4, "num_attention_heads": 12, "intermediate_size": 1152, "hidden_activation": "gelu",
             "norm_eps": 1e-05, "norm_bias": false, "local_attention": 128, "global_attn_every_n_layers": 3,
             "layer_types": ["full_attention", "sliding_attention", "sliding_attention", "full_attention"],
             "rope_parameters": {"full_attention": {"rope_type": "default", "rope_theta": 160000.0}, "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}},
             "pad_token_id": 50283, "classifier_pooling": "mean", "reference_compile": null, "sparse_prediction": false}
            """);
        Assert.Same(EncoderFamily.ModernBert, modern.Family);
        Assert.Equal(1e-5, modern.LayerNormEps);
        Assert.Equal(8192, modern.MaxPositionEmbeddings);
        Assert.Equal(0, modern.HiddenDropoutProb);
        Assert.Equal(0, modern.ClassifierDropout);
        ModernBertSettings settings = ModernBertSettings.Read(modern);
        Assert.Equal([true, false, false, true], Enumerable.Range(0, 4).Select(settings.IsGlobal));
        Assert.Equal(160000.0, settings.RopeTheta(0));
        Assert.Equal(10000.0, settings.RopeTheta(1));
        Assert.Equal("mean", settings.ClassifierPooling);

        // The older format: global_rope_theta / local_rope_theta, no layer_types.
        BertConfig older = BertConfig.FromJson("""
            {"model_type": "modernbert", "vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
             "intermediate_size": 48, "global_rope_theta": 50000.0, "local_rope_theta": 5000.0, "global_attn_every_n_layers": 2, "pad_token_id": 3}
            """);
        ModernBertSettings old = ModernBertSettings.Read(older);
        Assert.Equal(50000.0, old.RopeTheta(0));
        Assert.Equal(5000.0, old.RopeTheta(1));
        Assert.Equal("gelu", older.HiddenAct);

        // The keys of answerdotai/ModernBERT-base's config.json (transformers 4.48 format, with BERT's layer_norm_eps and
        // position_embedding_type beside norm_eps): the base model's shapes.
        BertConfig hub = BertConfig.FromJson("""
            {"architectures": ["ModernBertForMaskedLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 50281,
             "classifier_activation": "gelu", "classifier_bias": false, "classifier_dropout": 0.0, "classifier_pooling": "mean",
             "cls_token_id": 50281, "decoder_bias": true, "deterministic_flash_attn": false, "embedding_dropout": 0.0, "eos_token_id": 50282,
             "global_attn_every_n_layers": 3, "global_rope_theta": 160000.0, "gradient_checkpointing": false, "hidden_activation": "gelu",
             "hidden_size": 768, "initializer_cutoff_factor": 2.0, "initializer_range": 0.02, "intermediate_size": 1152, "layer_norm_eps": 1e-05,
             "local_attention": 128, "local_rope_theta": 10000.0, "max_position_embeddings": 8192, "mlp_bias": false, "mlp_dropout": 0.0,
             "model_type": "modernbert", "norm_bias": false, "norm_eps": 1e-05, "num_attention_heads": 12, "num_hidden_layers": 22,
             "pad_token_id": 50283, "position_embedding_type": "absolute", "sep_token_id": 50282, "sparse_pred_ignore_index": -100,
             "sparse_prediction": false, "torch_dtype": "float32", "transformers_version": "4.47.0.dev0", "vocab_size": 50368}
            """);
        Dictionary<string, long[]> shapes = global::Bert.Sharp.Checkpoints.ConfigShapes.Of(hub);
        Assert.Equal(2 + (22 * 6) - 1 + 1, shapes.Count); // tok_embeddings, embeddings.norm; attn_norm, Wqkv, Wo, mlp_norm, Wi, Wo a layer (no attn_norm in layer 0); final_norm
        Assert.Equal([2304L, 768L], shapes["layers.21.attn.Wqkv.weight"]);
        Assert.Equal([2304L, 768L], shapes["layers.21.mlp.Wi.weight"]);
        Assert.Equal([true, false, false, true], Enumerable.Range(0, 4).Select(ModernBertSettings.Read(hub).IsGlobal));

        // Written back with ModernBERT's keys, unknown keys kept.
        JsonObject saved = JsonNode.Parse(modern.ToJson())!.AsObject();
        Assert.Equal("gelu", saved["hidden_activation"]!.GetValue<string>());
        Assert.Equal(1e-5, saved["norm_eps"]!.GetValue<double>());
        Assert.False(saved.ContainsKey("hidden_act"));
        Assert.False(saved.ContainsKey("layer_norm_eps"));
        Assert.False(saved.ContainsKey("type_vocab_size"));
        Assert.Equal(4, saved["layer_types"]!.AsArray().Count);
        Assert.Equal(BertConfig.FromJson(modern.ToJson()).ToJson(), modern.ToJson());
    }

    [Theory]
    [InlineData("\"hidden_activation\": \"mish\"", "hidden_activation")]
    [InlineData("\"classifier_activation\": \"mish\"", "classifier_activation")]
    [InlineData("\"classifier_pooling\": \"max\"", "classifier_pooling")]
    [InlineData("\"rope_parameters\": {\"full_attention\": {\"rope_type\": \"linear\", \"rope_theta\": 160000.0, \"factor\": 2.0}}", "rope_parameters.full_attention")]
    [InlineData("\"rope_scaling\": {\"type\": \"dynamic\", \"factor\": 2.0}", "rope_scaling")]
    public void What_is_not_reproduced_is_refused_naming_the_file_and_key(string setting, string key)
    {
        string dir = TestTemp.NewDirectory("modernbert-refuse");
        try
        {
            File.WriteAllText(Path.Combine(dir, "config.json"), "{\"model_type\": \"modernbert\", \"vocab_size\": 100, \"hidden_size\": 32, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"intermediate_size\": 48, \"pad_token_id\": 0, " + setting + "}");
            var e = Assert.Throws<NotSupportedException>(() => BertConfig.Load(dir));
            Assert.Contains(key, e.Message, StringComparison.Ordinal);
            Assert.Contains("config.json", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void An_odd_head_size_is_refused_naming_the_keys()
    {
        // Rotary embeddings rotate the two halves of each head: an odd head size (36 / 4 = 9) has none; transformers fails
        // inside its forward, this library when the config is read.
        string dir = TestTemp.NewDirectory("modernbert-refuse");
        try
        {
            File.WriteAllText(Path.Combine(dir, "config.json"), "{\"model_type\": \"modernbert\", \"vocab_size\": 100, \"hidden_size\": 36, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"intermediate_size\": 48, \"pad_token_id\": 0}");
            var e = Assert.Throws<NotSupportedException>(() => BertConfig.Load(dir));
            Assert.Contains("hidden_size", e.Message, StringComparison.Ordinal);
            Assert.Contains("num_attention_heads", e.Message, StringComparison.Ordinal);
            Assert.Contains("config.json", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_folder_loads_strictly_and_a_missing_weight_is_refused_naming_it()
    {
        string dir = TestTemp.NewDirectory("modernbert-load");
        try
        {
            using (var model = MirrorRequests.WideSpread(new BertModel(Config(biases: true)), 3))
            {
                model.SavePretrained(dir);
                using BertModel loaded = BertModel.FromPretrained(dir);
                Assert.Same(EncoderFamily.ModernBert, loaded.Family);
                foreach ((string name, Tensor value) in model.state_dict())
                {
                    Assert.True(value.allclose(loaded.state_dict()[name], rtol: 0, atol: 0), name);
                }

                Assert.Equal("ModernBertModel", JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!["architectures"]![0]!.GetValue<string>());
            }

            // The config now says the layers have biases the weights lack (mlp_bias true, saved without): refused, naming a key.
            using (var model = new BertModel(Config()))
            {
                model.SavePretrained(dir);
            }

            string config = Path.Combine(dir, "config.json");
            File.WriteAllText(config, File.ReadAllText(config).Replace("\"mlp_bias\": false", "\"mlp_bias\": true", StringComparison.Ordinal));
            var e = Assert.Throws<InvalidDataException>(() => BertModel.FromPretrained(dir));
            Assert.Contains("mlp.Wi.bias", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Saved_modernbert_folders_compute_the_same_states_and_logits_in_the_python_mirror()
    {
        string root = TestTemp.NewDirectory("modernbert-mirror");
        try
        {
            // Three texts of 20, 13 and 6 tokens (right-padded to 20) under a local window of 8: every local layer masks keys.
            const int length = 20;
            int[] lengths = [20, 13, 6];
            long[,] ids = new long[3, length];
            long[,] mask = new long[3, length];
            var random = new Random(7);
            for (int r = 0; r < 3; r++)
            {
                for (int c = 0; c < lengths[r]; c++)
                {
                    ids[r, c] = random.Next(1, 100);
                    mask[r, c] = 1;
                }
            }

            bool[] realTokens = [.. mask.Cast<long>().Select(m => m == 1)];
            var requests = new JsonArray();
            var cases = new List<(string Name, float[][] Expected, bool[] Real)>();
            foreach ((bool biases, string pooling, string activation) in new[] { (true, "cls", "gelu"), (false, "mean", "gelu_pytorch_tanh") })
            {
                BertConfig config = Config(biases: biases, pooling: pooling, activation: activation);
                using var model = MirrorRequests.WideSpread(new BertForSequenceClassification(config, ["a", "b", "c"]), biases ? 21 : 22);
                Assert.Equal(pooling == "mean" ? PoolingStrategy.Mean : PoolingStrategy.Cls, model.Head.Pooling);
                string folder = Path.Combine(root, $"seq-{pooling}");
                model.SavePretrained(folder);
                cases.Add(($"sequence ({pooling}, biases {biases})", MirrorRequests.Logits(model.Forward, ids, mask), [true, true, true]));
                requests.Add(MirrorRequests.Request(folder, "sequence-classification", ids, mask));

                using (var tagger = MirrorRequests.WideSpread(new BertForTokenClassification(config, ["O", "B-X", "I-X", "B-Y"]), biases ? 23 : 24))
                {
                    string tokenFolder = Path.Combine(root, $"tok-{pooling}");
                    tagger.SavePretrained(tokenFolder);
                    cases.Add(($"token (biases {biases})", MirrorRequests.Logits(tagger.Forward, ids, mask), realTokens));
                    requests.Add(MirrorRequests.Request(tokenFolder, "token-classification", ids, mask));
                }

                string baseFolder = Path.Combine(root, $"base-{pooling}");
                model.Bert.SavePretrained(baseFolder);
                cases.Add(($"last hidden state (biases {biases})", HiddenStates(model.Bert, ids, mask), realTokens));
                requests.Add(MirrorRequests.Request(baseFolder, "last-hidden-state", ids, mask));
            }

            string requestFile = Path.Combine(root, "requests.json");
            File.WriteAllText(requestFile, requests.ToJsonString());
            JsonArray results = JsonNode.Parse(PythonWithTorch.RunScript("hf_mirror.py", requestFile).Trim())!.AsArray();
            Assert.Equal(cases.Count, results.Count);
            for (int c = 0; c < cases.Count; c++)
            {
                float[][] python = [.. MirrorRequests.Rows(results[c]!["output"]!)];
                MirrorRequests.AssertClose($"{cases[c].Name}: Bert.Sharp vs Python", cases[c].Expected, python, cases[c].Real, Tolerance);
            }
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public void The_window_and_the_padding_change_what_a_token_sees()
    {
        // The first token's state changes when the last one (19 positions away, beyond the local window) changes: the
        // global layers see it. It does not change when a padding id changes, and a padded text computes what it does alone.
        using var model = MirrorRequests.WideSpread(new BertModel(Config()), 5);
        using var noGrad = no_grad();
        long[] baseIds = [.. Enumerable.Range(1, 20).Select(i => (long)i)];
        long[] farChanged = [.. baseIds];
        farChanged[19] = 77;
        using Tensor a = model.Forward(tensor(baseIds).unsqueeze(0)).LastHiddenState.select(1, 0);
        using Tensor b = model.Forward(tensor(farChanged).unsqueeze(0)).LastHiddenState.select(1, 0);
        Assert.False(a.allclose(b, rtol: 0, atol: 1e-6), "a global layer sees the whole sequence");

        long[] mask = [.. Enumerable.Range(0, 20).Select(i => i < 12 ? 1L : 0L)];
        long[] padChanged = [.. baseIds];
        padChanged[15] = 50;
        using Tensor c = model.Forward(tensor(baseIds).unsqueeze(0), tensor(mask).unsqueeze(0)).LastHiddenState.narrow(1, 0, 12);
        using Tensor d = model.Forward(tensor(padChanged).unsqueeze(0), tensor(mask).unsqueeze(0)).LastHiddenState.narrow(1, 0, 12);
        using Tensor alone = model.Forward(tensor(baseIds[..12]).unsqueeze(0)).LastHiddenState;
        Assert.True(c.allclose(d, rtol: 0, atol: 1e-6), "padding is masked");
        Assert.True(c.allclose(alone, rtol: 0, atol: 1e-5), "a padded text computes what it computes alone");

        // The eager path (attention probabilities asked for) computes the same states; a local layer's probabilities are 0
        // beyond 4 positions (local_attention 8 / 2) and on padding, a global layer's on padding only; each row sums to 1.
        using BertModelOutput eager = model.Forward(tensor(baseIds).unsqueeze(0), tensor(mask).unsqueeze(0), null, new BertForwardOptions { OutputAttentions = true });
        Assert.True(eager.LastHiddenState.narrow(1, 0, 12).allclose(c, rtol: 0, atol: 1e-5), "eager and fused attention agree");
        Tensor local = eager.Attentions![1][0];
        Tensor global = eager.Attentions[0][0];
        Assert.Equal(0f, local[.., 0, 5].abs().max().item<float>());
        Assert.True(local[.., 0, 4].min().item<float>() > 0);
        Assert.True(global[.., 0, 11].min().item<float>() > 0);
        Assert.Equal(0f, global[.., 0, 12].abs().max().item<float>());
        Assert.True(local.sum(-1).narrow(1, 0, 12).allclose(ones(4, 12), rtol: 0, atol: 1e-5));
    }

    private static float[][] HiddenStates(BertModel model, long[,] ids, long[,] mask)
    {
        using var noGrad = no_grad();
        using BertModelOutput output = model.Forward(tensor(ids), tensor(mask));
        long h = output.LastHiddenState.shape[^1];
        return [.. output.LastHiddenState.contiguous().data<float>().ToArray().Chunk((int)h)];
    }
}
