using Bert.Sharp.Attention;
using Bert.Sharp.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Attention;

/// <summary>
/// The kernel over the packed Q/K/V projection, as the self-attention block calls it: context and projection gradient
/// against the eager chain written out from the same projection, the inputs it refuses, and the p = 0 path.
/// </summary>
public partial class CpuFusedAttentionTests
{
    [Theory]
    [InlineData(1, 8, false)]
    [InlineData(7, 8, true)]
    [InlineData(13, 3, true)]
    [InlineData(33, 8, false)]
    [InlineData(128, 32, true)]
    public void The_packed_projection_gives_the_eager_chains_context_and_projection_gradient(int length, int width, bool padded)
    {
        // The self-attention block's path: the fused Q/K/V projection in, the merged context out, one gradient back.
        RequireMkl();
        using var scope = NewDisposeScope();
        const int Batch = 3, Heads = 2;
        using var inputs = new Generator((ulong)((length * 100) + width));
        Tensor projection0 = randn([Batch, length, 3 * Heads * width], generator: inputs);
        Tensor upstream = randn([Batch, length, Heads * width], generator: inputs);
        Tensor? mask = padded ? PaddingMask(Batch, length) : null;
        Assert.True(CpuFusedAttention.SupportsPacked(projection0, Heads, 0.2));

        (Tensor Output, Tensor Gradient) RunPacked(Func<Tensor, Tensor> attention)
        {
            Tensor projection = projection0.detach().clone().requires_grad_();
            Tensor output;
            using (DropoutRandomness.Use(new Generator(23)))
            {
                output = attention(projection);
            }

            (output * upstream).sum().backward();
            return (output.detach(), projection.grad!.clone());
        }

        (Tensor expected, Tensor expectedGradient) = RunPacked(projection =>
        {
            Tensor heads5 = projection.view(Batch, length, 3, Heads, width).permute(2, 0, 3, 1, 4);
            return Reference(0.2)(heads5[0], heads5[1], heads5[2], mask).transpose(1, 2).reshape(Batch, length, Heads * width);
        });
        (Tensor actual, Tensor gradient) = RunPacked(projection => CpuFusedAttention.ApplyPacked(projection, Heads, mask, 0.2));
        AssertClose(expected, actual, "context");
        AssertClose(expectedGradient, gradient, "projection gradient");
    }

    [Fact]
    public void Packed_inputs_it_cannot_take_are_refused()
    {
        RequireMkl();
        using var scope = NewDisposeScope();
        Tensor projection = randn(2, 5, 3 * 2 * 4);
        Assert.True(CpuFusedAttention.SupportsPacked(projection, 2, 0));
        Assert.False(CpuFusedAttention.SupportsPacked(projection, 2, -0.5));
        Assert.False(CpuFusedAttention.SupportsPacked(projection, 2, 1));
        Assert.False(CpuFusedAttention.SupportsPacked(projection, 5, 0.1)); // 24 columns are not 3 × 5 heads
        Assert.False(CpuFusedAttention.SupportsPacked(projection.to(ScalarType.Float64), 2, 0.1));
        Assert.False(CpuFusedAttention.SupportsPacked(randn(2, 3, 5, 24), 2, 0.1));
        Assert.False(CpuFusedAttention.SupportsPacked(randn(1, 1025, 6), 1, 0.1)); // a head's map over 4 MB
        ArgumentException e = Assert.Throws<ArgumentException>(() => CpuFusedAttention.ApplyPacked(projection, 5, null, 0.1));
        Assert.Contains("[2, 5, 24]", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => CpuFusedAttention.ApplyPacked(projection, 2, ones(2, 6, dtype: ScalarType.Bool), 0.1));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Without_dropout_it_is_plain_attention_and_draws_nothing(bool padded)
    {
        // p = 0: the softmax attention LibTorch computes, gradients included, and the run's generator left where it was
        // (the eager chain draws nothing either, so seeded runs keep their random stream).
        RequireMkl();
        using var scope = NewDisposeScope();
        const int Batch = 3, Heads = 2, Length = 37, Width = 8;
        using var inputs = new Generator(31);
        Tensor projection0 = randn([Batch, Length, 3 * Heads * Width], generator: inputs);
        Tensor upstream = randn([Batch, Length, Heads * Width], generator: inputs);
        Tensor? mask = padded ? PaddingMask(Batch, Length) : null;
        (Tensor Output, Tensor Gradient) Run(Func<Tensor, Tensor> attention)
        {
            Tensor projection = projection0.detach().clone().requires_grad_();
            Tensor output = attention(projection);
            (output * upstream).sum().backward();
            return (output.detach(), projection.grad!.clone());
        }

        (Tensor expected, Tensor expectedGradient) = Run(projection =>
        {
            Tensor heads5 = projection.view(Batch, Length, 3, Heads, Width).permute(2, 0, 3, 1, 4);
            Tensor? blocked = mask?.unsqueeze(1).unsqueeze(1);
            return nn.functional.scaled_dot_product_attention(heads5[0], heads5[1], heads5[2], blocked).transpose(1, 2).reshape(Batch, Length, Heads * Width);
        });
        using var run = new Generator(77);
        Tensor before = run.get_state();
        Tensor actual, gradient;
        using (DropoutRandomness.Use(run))
        {
            (actual, gradient) = Run(projection => CpuFusedAttention.ApplyPacked(projection, Heads, mask, 0));
        }

        AssertClose(expected, actual, "context");
        AssertClose(expectedGradient, gradient, "projection gradient");
        Assert.True(before.eq(run.get_state()).all().item<bool>(), "the generator was drawn from");
    }
}
