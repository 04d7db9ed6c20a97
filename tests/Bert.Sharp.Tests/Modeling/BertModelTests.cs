using Bert.Sharp.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Modeling;

public class BertModelTests
{
    private static readonly string[] LayerKeys =
    [
        "attention.self.query.weight", "attention.self.query.bias", "attention.self.key.weight", "attention.self.key.bias",
        "attention.self.value.weight", "attention.self.value.bias", "attention.output.dense.weight", "attention.output.dense.bias",
        "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias", "intermediate.dense.weight", "intermediate.dense.bias",
        "output.dense.weight", "output.dense.bias", "output.LayerNorm.weight", "output.LayerNorm.bias",
    ];

    [Fact]
    public void State_dict_names_and_shapes_are_hugging_face_s()
    {
        var config = TinyConfigs.Bert(layers: 2);
        using var model = new BertModel(config);
        var state = model.state_dict();
        var expected = new List<string>
        {
            "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight",
            "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
        };
        for (int i = 0; i < 2; i++)
        {
            expected.AddRange(LayerKeys.Select(k => $"encoder.layer.{i}.{k}"));
        }

        expected.Add("pooler.dense.weight");
        expected.Add("pooler.dense.bias");
        Assert.Equal(expected.OrderBy(x => x, StringComparer.Ordinal), state.Keys.OrderBy(x => x, StringComparer.Ordinal));
        Assert.Equal(new long[] { 100, 32 }, state["embeddings.word_embeddings.weight"].shape);
        Assert.Equal(new long[] { 64, 32 }, state["encoder.layer.1.intermediate.dense.weight"].shape);
        Assert.Equal(new long[] { 32, 64 }, state["encoder.layer.1.output.dense.weight"].shape);
    }

    [Fact]
    public void Model_without_pooler_has_no_pooler_keys_and_no_pooled_output()
    {
        using var model = new BertModel(TinyConfigs.Bert(), addPoolingLayer: false);
        Assert.DoesNotContain(model.state_dict().Keys, k => k.StartsWith("pooler", StringComparison.Ordinal));
        using var ids = tensor(new long[,] { { 1, 2, 3 } });
        using var output = model.Forward(ids);
        Assert.Null(output.PooledOutput);
        Assert.Equal(new long[] { 1, 3, 32 }, output.LastHiddenState.shape);
    }

    [Fact]
    public void Padding_row_of_word_embeddings_is_zero_after_init()
    {
        using var model = new BertModel(TinyConfigs.Bert());
        Assert.Equal(0f, model.Embeddings.WordEmbeddings.weight![0].abs().sum().item<float>());
    }

    [Theory]
    [InlineData("gelu")]
    [InlineData("gelu_new")]
    [InlineData("relu")]
    [InlineData("silu")]
    public void Padded_tokens_do_not_change_real_tokens(string act)
    {
        torch.manual_seed(1);
        using var model = new BertModel(TinyConfigs.Bert(act: act));
        model.eval();
        using var noGrad = no_grad();
        using var shortIds = tensor(new long[,] { { 5, 6, 7 } });
        using var paddedIds = tensor(new long[,] { { 5, 6, 7, 0, 0 } });
        using var mask = tensor(new long[,] { { 1, 1, 1, 0, 0 } });
        using var a = model.Forward(shortIds);
        using var b = model.Forward(paddedIds, mask);
        using var diff = (a.LastHiddenState - b.LastHiddenState.narrow(1, 0, 3)).abs().max();
        Assert.True(diff.item<float>() < 1e-5f, $"max diff {diff.item<float>()}");
        using var pooledDiff = (a.PooledOutput! - b.PooledOutput!).abs().max();
        Assert.True(pooledDiff.item<float>() < 1e-5f);
    }

    [Fact]
    public void Eager_and_fused_attention_agree_and_eager_returns_probabilities()
    {
        torch.manual_seed(2);
        using var model = new BertModel(TinyConfigs.Bert(attention: "eager"));
        model.eval();
        using var noGrad = no_grad();
        using var ids = tensor(new long[,] { { 1, 2, 3, 4 }, { 9, 8, 0, 0 } });
        using var mask = tensor(new long[,] { { 1, 1, 1, 1 }, { 1, 1, 0, 0 } });
        using var types = tensor(new long[,] { { 0, 0, 1, 1 }, { 0, 1, 0, 0 } });
        using var eager = model.Forward(ids, mask, types, new BertForwardOptions { OutputAttentions = true, OutputHiddenStates = true });
        Assert.Equal(2, eager.Attentions!.Count);
        Assert.Equal(3, eager.HiddenStates!.Count);
        Assert.Equal(new long[] { 2, 4, 4, 4 }, eager.Attentions[0].shape);
        // Probabilities of padded keys are zero and rows sum to one.
        Assert.Equal(0f, eager.Attentions[0][1, .., .., 2..].abs().sum().item<float>());
        using var rowSums = eager.Attentions[1].sum(-1);
        Assert.True((rowSums - 1).abs().max().item<float>() < 1e-5f);

        model.SetAttentionImplementation("sdpa");
        using var fused = model.Forward(ids, mask, types);
        Assert.True((eager.LastHiddenState - fused.LastHiddenState).abs().max().item<float>() < 1e-5f);
    }

    [Fact]
    public void Ids_past_the_vocabulary_are_rejected_before_native_code()
    {
        using var model = new BertModel(TinyConfigs.Bert(vocab: 100));
        using var ids = tensor(new long[,] { { 1, 100 } });
        var e = Assert.Throws<ArgumentException>(() => model.Forward(ids));
        Assert.Contains("vocab_size=100", e.Message, StringComparison.Ordinal);
        using var negative = tensor(new long[,] { { -1, 2 } });
        Assert.Throws<ArgumentException>(() => model.Forward(negative));
    }

    [Fact]
    public void Sequences_longer_than_max_positions_are_rejected()
    {
        using var model = new BertModel(TinyConfigs.Bert(maxPositions: 8));
        using var ids = zeros(1, 9, dtype: ScalarType.Int64);
        var e = Assert.Throws<ArgumentException>(() => model.Forward(ids));
        Assert.Contains("max_position_embeddings is 8", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_shapes_and_types_are_rejected()
    {
        using var model = new BertModel(TinyConfigs.Bert());
        using var oneD = tensor(new long[] { 1, 2 });
        Assert.Throws<ArgumentException>(() => model.Forward(oneD));
        using var floats = ones(1, 2);
        Assert.Throws<ArgumentException>(() => model.Forward(floats));
        using var ids = tensor(new long[,] { { 1, 2 } });
        using var badMask = tensor(new long[,] { { 1, 1, 1 } });
        Assert.Throws<ArgumentException>(() => model.Forward(ids, badMask));
        using var badTypes = tensor(new long[,] { { 0, 2 } });
        Assert.Throws<ArgumentException>(() => model.Forward(ids, null, badTypes));
    }

    [Fact]
    public void Dropout_is_active_in_training_and_off_in_eval()
    {
        torch.manual_seed(3);
        using var model = new BertModel(TinyConfigs.Bert(dropout: 0.5));
        using var ids = tensor(new long[,] { { 1, 2, 3, 4 } });
        using var noGrad = no_grad();
        model.train();
        using var t1 = model.Forward(ids);
        using var t2 = model.Forward(ids);
        Assert.True((t1.LastHiddenState - t2.LastHiddenState).abs().max().item<float>() > 1e-3f);
        model.eval();
        using var e1 = model.Forward(ids);
        using var e2 = model.Forward(ids);
        Assert.Equal(0f, (e1.LastHiddenState - e2.LastHiddenState).abs().max().item<float>());
    }

    [Fact]
    public void Gradients_flow_to_every_parameter()
    {
        using var model = new BertModel(TinyConfigs.Bert());
        using var ids = tensor(new long[,] { { 1, 2, 3, 4 } });
        using var types = tensor(new long[,] { { 0, 0, 1, 1 } });
        using (var scope = NewDisposeScope())
        {
            var output = model.Forward(ids, null, types);
            (output.LastHiddenState.sum() + output.PooledOutput!.sum()).backward();
        }

        foreach (var (name, p) in model.named_parameters())
        {
            Assert.True(p.grad is not null, $"{name} got no gradient");
        }
    }
}
