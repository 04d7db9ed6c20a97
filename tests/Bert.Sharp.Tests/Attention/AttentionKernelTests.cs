using Bert.Sharp.Attention;
using Bert.Sharp.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Attention;

public class AttentionKernelTests
{
    private const float Tolerance = 1e-5f;

    public static TheoryData<string, int, bool> Cases()
    {
        var data = new TheoryData<string, int, bool>();
        foreach (string kernel in new[] { "sdpa", "chunked", "chunked-small" })
        {
            foreach (int length in new[] { 1, 7, 33, 130 })
            {
                data.Add(kernel, length, false);
                data.Add(kernel, length, true);
            }
        }

        return data;
    }

    private static IAttentionKernel Kernel(string name) => name == "chunked-small" ? new ChunkedAttentionKernel(5, 8) : AttentionKernels.Get(name);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Kernel_matches_eager_forward_and_gradients(string kernelName, int length, bool padded)
    {
        torch.manual_seed(length);
        IAttentionKernel kernel = Kernel(kernelName);
        using var scope = NewDisposeScope();
        Tensor q0 = randn(2, 3, length, 8), k0 = randn(2, 3, length, 8), v0 = randn(2, 3, length, 8);
        Tensor? mask = null;
        if (padded)
        {
            // Ragged: the second sequence keeps only its first half (at least one token).
            mask = ones(2, length, dtype: ScalarType.Bool);
            mask[1, Math.Max(1, length / 2)..] = tensor(false);
        }

        (Tensor refOut, Tensor[] refGrads) = Run(EagerAttentionKernel.Instance, q0, k0, v0, mask);
        (Tensor out_, Tensor[] grads) = Run(kernel, q0, k0, v0, mask);
        float forwardDiff = (refOut - out_).abs().max().item<float>();
        Assert.True(forwardDiff <= Tolerance, $"{kernelName} forward max |diff| {forwardDiff}");
        for (int i = 0; i < 3; i++)
        {
            float gradDiff = (refGrads[i] - grads[i]).abs().max().item<float>();
            Assert.True(gradDiff <= Tolerance, $"{kernelName} gradient {i} max |diff| {gradDiff}");
        }
    }

    private static (Tensor Output, Tensor[] Grads) Run(IAttentionKernel kernel, Tensor q0, Tensor k0, Tensor v0, Tensor? mask)
    {
        Tensor q = q0.detach().requires_grad_(), k = k0.detach().requires_grad_(), v = v0.detach().requires_grad_();
        (Tensor context, _) = kernel.Compute(q, k, v, mask, 0.0, false);
        // A fixed random projection of the output makes every output element matter to the gradient.
        using var generator = new Generator(seed: 7);
        Tensor weight = randn(context.shape, generator: generator);
        (context * weight).sum().backward();
        return (context.detach(), [q.grad!.clone(), k.grad!.clone(), v.grad!.clone()]);
    }

    [Fact]
    public void Only_eager_returns_probabilities()
    {
        using var scope = NewDisposeScope();
        Tensor q = randn(1, 1, 4, 8);
        Assert.NotNull(EagerAttentionKernel.Instance.Compute(q, q, q, null, 0, true).Probabilities);
        Assert.Throws<NotSupportedException>(() => FusedAttentionKernel.Instance.Compute(q, q, q, null, 0, true));
        Assert.Throws<NotSupportedException>(() => ChunkedAttentionKernel.Instance.Compute(q, q, q, null, 0, true));
    }

    [Fact]
    public void Unknown_kernel_name_lists_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => AttentionKernels.Get("flash9"));
        Assert.Contains("eager", e.Message, StringComparison.Ordinal);
        Assert.Contains("chunked", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Chunked_dropout_keeps_expected_scale()
    {
        // With dropout, E[output] equals the no-dropout output; average many draws.
        torch.manual_seed(11);
        using var scope = NewDisposeScope();
        Tensor q = randn(1, 1, 6, 4), k = randn(1, 1, 6, 4), v = randn(1, 1, 6, 4);
        Tensor reference = EagerAttentionKernel.Instance.Compute(q, k, v, null, 0, false).Context;
        Tensor sum = zeros_like(reference);
        const int draws = 4000;
        var kernel = new ChunkedAttentionKernel(2, 2);
        for (int i = 0; i < draws; i++)
        {
            using var inner = NewDisposeScope();
            sum.add_(kernel.Compute(q, k, v, null, 0.3, false).Context);
        }

        float diff = (sum / draws - reference).abs().max().item<float>();
        Assert.True(diff < 0.1f, $"mean of dropped-out outputs is off by {diff}");
    }

    [Theory]
    [InlineData("eager")]
    [InlineData("sdpa")]
    [InlineData("chunked")]
    public void Unpadded_execution_matches_padded_at_real_tokens_forward_and_backward(string kernel)
    {
        torch.manual_seed(5);
        var config = TinyConfigs.Bert(attention: kernel);
        using var padded = new BertModel(config);
        using var unpadded = new BertModel(config);
        unpadded.load_state_dict(padded.state_dict());
        using var scope = NewDisposeScope();
        Tensor ids = tensor(new long[,] { { 2, 3, 4, 5, 6, 7 }, { 8, 9, 0, 0, 0, 0 }, { 10, 11, 12, 13, 0, 0 } });
        Tensor mask = tensor(new long[,] { { 1, 1, 1, 1, 1, 1 }, { 1, 1, 0, 0, 0, 0 }, { 1, 1, 1, 1, 0, 0 } });
        Tensor types = tensor(new long[,] { { 0, 0, 0, 1, 1, 1 }, { 0, 1, 0, 0, 0, 0 }, { 0, 0, 1, 1, 0, 0 } });
        var a = padded.Forward(ids, mask, types, new BertForwardOptions { Unpadding = UnpaddingMode.Never });
        var b = unpadded.Forward(ids, mask, types, new BertForwardOptions { Unpadding = UnpaddingMode.Always });
        Tensor real = mask.to(ScalarType.Bool).unsqueeze(-1);
        float diff = ((a.LastHiddenState - b.LastHiddenState) * real).abs().max().item<float>();
        Assert.True(diff <= Tolerance, $"hidden max |diff| {diff}");
        Assert.Equal(0f, (b.LastHiddenState * real.logical_not()).abs().max().item<float>());
        Assert.True((a.PooledOutput! - b.PooledOutput!).abs().max().item<float>() <= Tolerance);

        // Same loss on real tokens -> same parameter gradients.
        ((a.LastHiddenState * real).sum() + a.PooledOutput!.sum()).backward();
        ((b.LastHiddenState * real).sum() + b.PooledOutput!.sum()).backward();
        var gradsA = padded.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!);
        foreach (var (name, p) in unpadded.named_parameters())
        {
            float g = (gradsA[name] - p.grad!).abs().max().item<float>();
            Assert.True(g <= 1e-4f, $"{name} gradient max |diff| {g}");
        }
    }
}
