using Bert.Sharp.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Modeling;

public class FastDropoutTests
{
    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void Keeps_one_minus_p_of_the_elements_scaled_by_its_inverse(double p)
    {
        torch.manual_seed(9);
        using var scope = NewDisposeScope();
        using var dropout = new FastDropout(p);
        dropout.train();
        Tensor x = ones(1_000_000);
        Tensor y = dropout.forward(x);
        double kept = y.ne(0).to(ScalarType.Float64).mean().item<double>();
        Assert.InRange(kept, 1 - p - 0.003, 1 - p + 0.003);
        double scale = y.max().item<float>();
        Assert.Equal(1 / (1 - p), scale, 5);
        Assert.Equal(1.0, y.to(ScalarType.Float64).mean().item<double>(), 1); // expectation preserved
    }

    [Fact]
    public void Is_the_identity_in_eval_mode_and_for_zero()
    {
        using var scope = NewDisposeScope();
        Tensor x = randn(4, 5);
        using var dropout = new FastDropout(0.3);
        dropout.eval();
        Assert.Same(x, dropout.forward(x));
        Assert.Same(x, FastDropout.Apply(x, 0));
    }

    [Fact]
    public void Gradient_is_the_same_mask_and_scale()
    {
        torch.manual_seed(4);
        using var scope = NewDisposeScope();
        Tensor x = randn(1000).requires_grad_();
        Tensor y = FastDropout.Apply(x, 0.25);
        y.sum().backward();
        Tensor expected = y.detach().ne(0).to(ScalarType.Float32) / 0.75f;
        Assert.Equal(0f, (x.grad! - expected).abs().max().item<float>(), 5);
    }

    [Fact]
    public void Rejects_probabilities_outside_zero_one()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FastDropout(1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FastDropout(-0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FastDropout(double.NaN));
    }
}
