using Bert.Sharp.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Tasks;

/// <summary>
/// <see cref="UnpaddingMode"/> changes how a ragged batch is run, never what comes out at real tokens: Never, Always and
/// Auto agree within 1e-5 on the hidden states, the pooled output and the mean-pooled sentence vectors.
/// </summary>
public sealed class UnpaddingModeTests
{
    private const float Tolerance = 1e-5f;

    [Theory]
    [InlineData("eager")]
    [InlineData("sdpa")]
    public void Never_always_and_auto_agree_on_a_ragged_batch(string kernel)
    {
        torch.manual_seed(9);
        using var model = new BertModel(TinyConfigs.Bert(layers: 3, attention: kernel));
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();

        // Lengths 8, 5, 2, 1: 14 of 32 positions are padding, so Auto unpads.
        int[] lengths = [8, 5, 2, 1];
        (Tensor ids, Tensor mask) = Ragged(lengths, width: 8);
        BertModelOutput never = model.Forward(ids, mask, null, new BertForwardOptions { Unpadding = UnpaddingMode.Never });
        BertModelOutput always = model.Forward(ids, mask, null, new BertForwardOptions { Unpadding = UnpaddingMode.Always });
        BertModelOutput auto = model.Forward(ids, mask, null, new BertForwardOptions { Unpadding = UnpaddingMode.Auto });
        BertModelOutput byDefault = model.Forward(ids, mask);

        Tensor real = mask.to(ScalarType.Bool).unsqueeze(-1);
        foreach ((string name, BertModelOutput output) in new[] { ("always", always), ("auto", auto), ("default", byDefault) })
        {
            float hidden = ((never.LastHiddenState - output.LastHiddenState) * real).abs().max().item<float>();
            float pooled = (never.PooledOutput! - output.PooledOutput!).abs().max().item<float>();
            float sentence = (MeanPool(never.LastHiddenState, mask) - MeanPool(output.LastHiddenState, mask)).abs().max().item<float>();
            Assert.True(hidden <= Tolerance, $"{kernel} {name}: hidden max |diff| {hidden}");
            Assert.True(pooled <= Tolerance, $"{kernel} {name}: pooled max |diff| {pooled}");
            Assert.True(sentence <= Tolerance, $"{kernel} {name}: mean-pooled max |diff| {sentence}");
        }

        // Auto really took the unpadded path here (padded positions come back as zeros), and Never did not.
        Assert.Equal(0f, (auto.LastHiddenState * real.logical_not()).abs().max().item<float>());
        Assert.Equal(0f, (always.LastHiddenState * real.logical_not()).abs().max().item<float>());
        Assert.True((never.LastHiddenState * real.logical_not()).abs().max().item<float>() > 0);
    }

    [Fact]
    public void Auto_keeps_a_nearly_full_batch_padded_and_bit_identical_to_never()
    {
        torch.manual_seed(10);
        using var model = new BertModel(TinyConfigs.Bert(layers: 2));
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();

        // One padded position of 32: below the threshold, so Auto runs the padded batch as it is.
        (Tensor ids, Tensor mask) = Ragged([8, 8, 8, 7], width: 8);
        Tensor never = model.Forward(ids, mask, null, new BertForwardOptions { Unpadding = UnpaddingMode.Never }).LastHiddenState;
        Tensor auto = model.Forward(ids, mask, null, new BertForwardOptions { Unpadding = UnpaddingMode.Auto }).LastHiddenState;
        Tensor always = model.Forward(ids, mask, null, new BertForwardOptions { Unpadding = UnpaddingMode.Always }).LastHiddenState;
        Assert.True(never.equal(auto).all().item<bool>());
        Tensor real = mask.to(ScalarType.Bool).unsqueeze(-1);
        Assert.True(((never - always) * real).abs().max().item<float>() <= Tolerance);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_modernbert_batch_unpadded_computes_the_padded_states_and_gradients(bool attentionProbabilities)
    {
        // Rows of 20, 13, 6 and 1 tokens under a local window of 8: the local layers mask by distance and by padding, and
        // the rotary positions count within each row, in both layouts. With attention probabilities the eager path runs.
        using var model = Families.MirrorRequests.WideSpread(new BertModel(Families.ModernBertTests.Config(biases: true)), 12);
        (Tensor ids, Tensor mask) = Ragged([20, 13, 6, 1], width: 20);
        using var scope = NewDisposeScope();
        Tensor real = mask.to(ScalarType.Bool).unsqueeze(-1);
        using var generator = new Generator(3, CPU);
        Tensor weights = randn([4, 20, 32], generator: generator);
        var results = new List<(Tensor Hidden, Tensor Gradient)>();
        foreach (UnpaddingMode mode in new[] { UnpaddingMode.Never, UnpaddingMode.Always })
        {
            model.zero_grad();
            BertModelOutput output = model.Forward(ids, mask, null, new BertForwardOptions { Unpadding = mode, OutputAttentions = attentionProbabilities });
            (output.LastHiddenState * real * weights).sum().backward();
            results.Add((output.LastHiddenState.detach(), model.named_parameters().Single(p => p.name == "layers.1.attn.Wqkv.weight").parameter.grad!.clone()));
        }

        float hidden = ((results[0].Hidden - results[1].Hidden) * real).abs().max().item<float>();
        float largest = (results[0].Hidden * real).abs().max().item<float>();
        float gradient = (results[0].Gradient - results[1].Gradient).abs().max().item<float>();
        float gradientScale = results[0].Gradient.abs().max().item<float>();
        Assert.True(hidden <= 1e-4f * Math.Max(1, largest), $"hidden max |diff| {hidden} (largest {largest})");
        Assert.True(gradient <= 1e-4f * Math.Max(1, gradientScale), $"gradient max |diff| {gradient} (largest {gradientScale})");
        Assert.True(gradientScale > 0, "no gradient reached layer 1");

        // Always really took the unpadded path: padded positions come back as final_norm of zeros, the same in every row.
        Tensor padded = results[1].Hidden[1, 19];
        Assert.True((padded - results[1].Hidden[2, 19]).abs().max().item<float>() == 0);
        Assert.True((results[0].Hidden[1, 19] - results[0].Hidden[2, 19]).abs().max().item<float>() > 0);
    }

    private static (Tensor Ids, Tensor Mask) Ragged(int[] lengths, int width)
    {
        var random = new Random(lengths.Sum());
        long[] ids = new long[lengths.Length * width];
        long[] mask = new long[lengths.Length * width];
        for (int r = 0; r < lengths.Length; r++)
        {
            for (int c = 0; c < lengths[r]; c++)
            {
                ids[(r * width) + c] = random.Next(1, 100);
                mask[(r * width) + c] = 1;
            }
        }

        return (tensor(ids, [lengths.Length, width]), tensor(mask, [lengths.Length, width]));
    }

    private static Tensor MeanPool(Tensor hidden, Tensor mask)
    {
        Tensor weights = mask.to(hidden.dtype).unsqueeze(-1);
        return (hidden * weights).sum(1) / weights.sum(1);
    }
}
