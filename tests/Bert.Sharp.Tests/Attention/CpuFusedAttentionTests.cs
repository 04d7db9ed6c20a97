using Bert.Sharp.Attention;
using Bert.Sharp.Modeling;
using Bert.Sharp.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Attention;

/// <summary>
/// The head-by-head CPU attention with dropout against the eager chain written out with torch's operators (scaled
/// product, masked fill, softmax, <see cref="FastDropout"/>, product) under generators seeded alike, so both drop the
/// same elements: context and the gradients of query, key and value agree to float32 rounding, for odd lengths,
/// queries and keys of different lengths, ragged and fully padded sequences, strided inputs and any thread count.
/// </summary>
public partial class CpuFusedAttentionTests
{
    private const float Tolerance = 2e-5f;

    public static TheoryData<int, int, int, bool> Cases()
    {
        var data = new TheoryData<int, int, int, bool>();
        foreach ((int queries, int keys) in new[] { (1, 1), (7, 7), (8, 8), (13, 13), (33, 33), (128, 128), (5, 19), (19, 5) })
        {
            data.Add(queries, keys, 8, false);
            data.Add(queries, keys, 8, true);
        }

        data.Add(16, 16, 32, true); // MiniLM's head width
        data.Add(9, 9, 3, true); // a head width below the vector width
        return data;
    }

    [Fact]
    public void Mkl_is_found_on_linux_x64()
    {
        // The kernel's point is Linux x64 with LibTorch's MKL; elsewhere the eager chain runs and this says why.
        if (OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64)
        {
            Assert.True(MklGemm.IsAvailable, MklGemm.Status);
        }
        else
        {
            Assert.False(MklGemm.IsAvailable);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_the_eager_chain_forward_and_backward(int queries, int keys, int width, bool padded)
    {
        RequireMkl();
        using var scope = NewDisposeScope();
        using var inputs = new Generator((ulong)((queries * 1000) + (keys * 10) + width));
        Tensor q = randn([3, 2, queries, width], generator: inputs), k = randn([3, 2, keys, width], generator: inputs), v = randn([3, 2, keys, width + 1], generator: inputs);
        Tensor upstream = randn([3, 2, queries, width + 1], generator: inputs);
        Tensor? mask = padded ? PaddingMask(3, keys) : null;

        (Tensor expected, Tensor[] expectedGradients) = Run(Reference(0.2), q, k, v, mask, upstream, seed: 17);
        (Tensor actual, Tensor[] gradients) = Run((a, b, c, m) => CpuFusedAttention.Apply(a, b, c, m, 0.2), q, k, v, mask, upstream, seed: 17);

        AssertClose(expected, actual, "context");
        string[] names = ["query", "key", "value"];
        for (int i = 0; i < 3; i++)
        {
            AssertClose(expectedGradients[i], gradients[i], $"{names[i]} gradient");
        }
    }

    [Fact]
    public void A_fully_padded_sequence_and_strided_inputs_match_the_eager_chain()
    {
        RequireMkl();
        using var scope = NewDisposeScope();
        // [batch, tokens, heads, width] transposed to [batch, heads, tokens, width], as the attention layer hands them over.
        Tensor q = randn(2, 10, 3, 8).transpose(1, 2), k = randn(2, 10, 3, 8).transpose(1, 2), v = randn(2, 10, 3, 8).transpose(1, 2);
        Assert.False(q.is_contiguous());
        Tensor mask = ones(2, 10, dtype: ScalarType.Bool);
        mask[1] = tensor(false);
        mask[0, 7..] = tensor(false);
        Tensor upstream = randn(2, 3, 10, 8);
        (Tensor expected, Tensor[] expectedGradients) = Run(Reference(0.1), q, k, v, mask, upstream, seed: 3);
        (Tensor actual, Tensor[] gradients) = Run((a, b, c, m) => CpuFusedAttention.Apply(a, b, c, m, 0.1), q, k, v, mask, upstream, seed: 3);
        AssertClose(expected, actual, "context");
        for (int i = 0; i < 3; i++)
        {
            AssertClose(expectedGradients[i], gradients[i], $"gradient {i}");
        }

        Assert.True(gradients[1][0, .., 7..].eq(0).all().item<bool>(), "padded keys got a key gradient");
    }

    [Fact]
    public void The_result_does_not_depend_on_the_thread_count()
    {
        RequireMkl();
        using var scope = NewDisposeScope();
        Tensor q = randn(4, 3, 40, 16), k = randn(4, 3, 40, 16), v = randn(4, 3, 40, 16);
        int threads = get_num_threads();
        try
        {
            set_num_threads(1);
            (Tensor one, Tensor[] oneGradients) = Run((a, b, c, m) => CpuFusedAttention.Apply(a, b, c, m, 0.1), q, k, v, null, ones(4, 3, 40, 16), seed: 8);
            set_num_threads(Math.Max(2, threads));
            (Tensor many, Tensor[] manyGradients) = Run((a, b, c, m) => CpuFusedAttention.Apply(a, b, c, m, 0.1), q, k, v, null, ones(4, 3, 40, 16), seed: 8);
            Assert.True(one.eq(many).all().item<bool>());
            for (int i = 0; i < 3; i++)
            {
                Assert.True(oneGradients[i].eq(manyGradients[i]).all().item<bool>());
            }
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    [Fact]
    public void The_default_kernel_uses_it_for_cpu_training_at_any_size()
    {
        RequireMkl();
        using var scope = NewDisposeScope();
        foreach ((int batch, int length) in new[] { (1, 1), (1, 16), (2, 1024) })
        {
            Tensor q = randn(batch, 2, length, 8), k = randn(batch, 2, length, 8), v = randn(batch, 2, length, 8);
            Tensor viaKernel, direct;
            using (DropoutRandomness.Use(new Generator(5)))
            {
                viaKernel = FusedAttentionKernel.Instance.Compute(q, k, v, null, 0.3, returnProbabilities: false).Context;
            }

            using (DropoutRandomness.Use(new Generator(5)))
            {
                direct = CpuFusedAttention.Apply(q, k, v, null, 0.3);
            }

            Assert.True(viaKernel.eq(direct).all().item<bool>(), $"{batch} × {length}: the default kernel did not take the head-by-head path");
        }
    }

    [Fact]
    public void Other_inputs_are_refused()
    {
        RequireMkl();
        using var scope = NewDisposeScope();
        Tensor q = randn(2, 2, 6, 8), k = randn(2, 2, 6, 8), v = randn(2, 2, 6, 8);
        Assert.True(CpuFusedAttention.Supports(q, k, v, 0.1));
        Assert.True(CpuFusedAttention.Supports(q, k, v, 0));
        Assert.False(CpuFusedAttention.Supports(q, k, v, -0.1));
        Assert.False(CpuFusedAttention.Supports(q, k, v, 1));
        Assert.False(CpuFusedAttention.Supports(q.to(ScalarType.BFloat16), k, v, 0.1));
        Assert.False(CpuFusedAttention.Supports(q, randn(2, 2, 6, 4), v, 0.1));
        Assert.False(CpuFusedAttention.Supports(q, k, randn(2, 2, 5, 8), 0.1));
        Assert.False(CpuFusedAttention.Supports(randn(2, 2, 2048, 8), randn(2, 2, 2048, 8), randn(2, 2, 2048, 8), 0.1)); // a head's map over 4 MB
        ArgumentException e = Assert.Throws<ArgumentException>(() => CpuFusedAttention.Apply(q, k, v, ones(2, 7, dtype: ScalarType.Bool), 0.1));
        Assert.Contains("[2, 6]", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => CpuFusedAttention.Apply(q, k, v, null, 1));
    }

    [Fact]
    public void Training_a_tiny_model_with_long_sequences_gives_the_eager_kernels_losses()
    {
        // Whole-model check: the default kernel (fused, head by head) and the eager one train a tiny model to the same
        // losses step by step, drawing the same dropout from the same generator.
        RequireMkl();
        float[] Losses(string kernel)
        {
            var config = TestSupport.TinyConfigs.Bert(attention: kernel, maxPositions: 512) with { AttentionProbsDropoutProb = 0.2, HiddenDropoutProb = 0 };
            // Weights from a private generator: torch's global one is drawn from by tests running beside this one.
            using var model = TestSupport.SeededWeights.Apply(new BertModel(config), 21);
            model.train();
            using var optimizer = optim.SGD(model.parameters(), 0.01);
            using var generator = new Generator(99);
            using var scope = NewDisposeScope();
            using var data = new Generator(4);
            Tensor ids = randint(2, config.VocabSize, [4, 512], generator: data);
            Tensor attention = ones(4, 512, dtype: ScalarType.Int64);
            attention[1, 300..] = tensor(0L); // ragged: padded keys in two of the sequences
            attention[3, 7..] = tensor(0L);
            Tensor projection = randn([4, 512, config.HiddenSize], generator: data);
            var losses = new float[4];
            for (int step = 0; step < losses.Length; step++)
            {
                optimizer.zero_grad();
                Tensor loss;
                using (DropoutRandomness.Use(generator))
                {
                    // A fixed random projection, so that every hidden value matters to the loss (a LayerNorm output's
                    // mean square is nearly constant and would leave the gradients at rounding noise).
                    Tensor hidden = model.Forward(ids, attention, zeros_like(ids)).LastHiddenState;
                    loss = (hidden * projection).sum();
                }

                loss.backward();
                optimizer.step();
                losses[step] = loss.item<float>();
            }

            return losses;
        }

        float[] fused = Losses("sdpa"), eager = Losses("eager");
        for (int i = 0; i < fused.Length; i++)
        {
            Assert.True(Math.Abs(fused[i] - eager[i]) <= 1e-5f * Math.Max(1, Math.Abs(eager[i])), $"step {i}: {fused[i]} against {eager[i]}");
        }
    }

    [Fact]
    public void Gradient_checkpointing_replays_the_same_masks_through_it()
    {
        // The recomputation in the backward runs the kernel again inside an autograd backward, with the generator state
        // put back: the parameter gradients equal those of the plain run.
        RequireMkl();
        Dictionary<string, Tensor> Gradients(bool checkpointing)
        {
            var config = TestSupport.TinyConfigs.Bert(maxPositions: 512) with { AttentionProbsDropoutProb = 0.2, HiddenDropoutProb = 0.1 };
            var model = TestSupport.SeededWeights.Apply(new BertModel(config) { GradientCheckpointing = checkpointing }, 8);
            model.train();
            using var data = new Generator(6);
            Tensor ids = randint(2, config.VocabSize, [4, 512], generator: data);
            Tensor attention = ones(4, 512, dtype: ScalarType.Int64);
            attention[2, 100..] = tensor(0L);
            Tensor projection = randn([4, 512, config.HiddenSize], generator: data);
            using (DropoutRandomness.Use(new Generator(12)))
            {
                (model.Forward(ids, attention, zeros_like(ids)).LastHiddenState * projection).sum().backward();
            }

            // The pooler takes no part in the last hidden state and gets no gradient.
            return model.named_parameters().Where(p => p.parameter.grad is not null).ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        }

        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> plain = Gradients(false), checkpointed = Gradients(true);
        Assert.Equal(plain.Keys.Order(), checkpointed.Keys.Order());
        Assert.Contains(plain.Keys, name => name.Contains("attention.self.query", StringComparison.Ordinal));
        foreach ((string name, Tensor gradient) in plain)
        {
            AssertClose(gradient, checkpointed[name], name);
        }
    }

    [Fact]
    public void Concurrent_callers_get_what_each_gets_alone()
    {
        // Two threads run the kernel at once (each with its own generator); the pool threads' buffers and MKL settings
        // are per thread, so each result equals the same call made alone.
        RequireMkl();
        using var scope = NewDisposeScope();
        Tensor q = randn(4, 4, 256, 16), k = randn(4, 4, 256, 16), v = randn(4, 4, 256, 16);
        (Tensor Output, Tensor[] Gradients) Alone(ulong seed) => Run((a, b, c, m) => CpuFusedAttention.Apply(a, b, c, m, 0.1), q, k, v, null, ones(4, 4, 256, 16), seed);
        var expected = new[] { Alone(1), Alone(2) };
        var actual = new (Tensor Output, Tensor[] Gradients)[2];
        Parallel.For(0, 2, i =>
        {
            using var inner = NewDisposeScope();
            (Tensor o, Tensor[] g) = Alone((ulong)i + 1);
            actual[i] = (o.MoveToOuterDisposeScope(), [.. g.Select(t => t.MoveToOuterDisposeScope())]);
        });

        for (int i = 0; i < 2; i++)
        {
            Assert.True(expected[i].Output.eq(actual[i].Output).all().item<bool>(), $"caller {i}: context differs");
            for (int g = 0; g < 3; g++)
            {
                Assert.True(expected[i].Gradients[g].eq(actual[i].Gradients[g]).all().item<bool>(), $"caller {i}: gradient {g} differs");
            }
        }
    }

    // The kernel exists for Linux x64 (LibTorch's MKL); the suite runs there, so a missing MKL fails rather than skips.
    private static void RequireMkl() => Assert.True(MklGemm.IsAvailable, MklGemm.Status);

    private static Func<Tensor, Tensor, Tensor, Tensor?, Tensor> Reference(double p) => (query, key, value, mask) =>
    {
        Tensor scores = query.mul(1.0 / Math.Sqrt(query.shape[^1])).matmul(key.transpose(-1, -2));
        if (mask is not null)
        {
            scores = scores.masked_fill(mask.logical_not().unsqueeze(1).unsqueeze(1), float.MinValue);
        }

        return FastDropout.Apply(scores.softmax(-1), p).matmul(value);
    };

    private static Tensor PaddingMask(int batch, int keys)
    {
        Tensor mask = ones(batch, keys, dtype: ScalarType.Bool);
        mask[1, Math.Max(1, keys / 2)..] = tensor(false);
        if (keys > 1)
        {
            mask[2, (keys - 1)..] = tensor(false);
        }

        return mask;
    }

    private static (Tensor Output, Tensor[] Gradients) Run(Func<Tensor, Tensor, Tensor, Tensor?, Tensor> attention, Tensor q0, Tensor k0, Tensor v0, Tensor? mask, Tensor upstream, ulong seed)
    {
        Tensor q = q0.detach().clone().requires_grad_(), k = k0.detach().clone().requires_grad_(), v = v0.detach().clone().requires_grad_();
        Tensor output;
        using (DropoutRandomness.Use(new Generator(seed)))
        {
            output = attention(q, k, v, mask);
        }

        (output * upstream).sum().backward();
        return (output.detach(), [q.grad!.clone(), k.grad!.clone(), v.grad!.clone()]);
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        float difference = (expected - actual).abs().max().item<float>();
        float scale = Math.Max(1f, expected.abs().max().item<float>());
        Assert.True(difference <= Tolerance * scale, $"{what}: max |difference| {difference} (scale {scale})");
    }
}
