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

    [Fact]
    public unsafe void Cpu_masks_do_not_depend_on_the_thread_count_and_repeat_for_the_same_seed()
    {
        // The thread count is passed in, not set on torch: torch.set_num_threads is process-wide (it also changes MKL's
        // threading) and would disturb tests running in parallel.
        const int Count = 3 * 5 * 70_001; // odd, many blocks
        float[] one = new float[Count], four = new float[Count];
        uint threshold = CpuDropoutMask.Threshold(0.1);
        fixed (float* a = one)
        fixed (float* b = four)
        {
            CpuDropoutMask.Fill(a, Count, 0x1234_5678_9ABC_DEF0UL, threshold, 1 / 0.9f, threads: 1);
            CpuDropoutMask.Fill(b, Count, 0x1234_5678_9ABC_DEF0UL, threshold, 1 / 0.9f, threads: 4);
        }

        Assert.Equal(one, four);
        Assert.Contains(0f, one);
        Assert.Contains(1 / 0.9f, one);

        using var scope = NewDisposeScope();
        long[] shape = [3, 5, 70_001];
        var generator = new Generator(123);
        Tensor first = CpuDropoutMask.Create(shape, ScalarType.Float32, 0.1, generator);
        Tensor again = CpuDropoutMask.Create(shape, ScalarType.Float32, 0.1, new Generator(123));
        Tensor next = CpuDropoutMask.Create(shape, ScalarType.Float32, 0.1, generator);
        Assert.True(first.eq(again).all().item<bool>());
        Assert.False(first.eq(next).all().item<bool>()); // the generator advanced: a new key, a new mask
    }

    [Theory]
    [InlineData(1, 0.1)]
    [InlineData(17, 0.1)]
    [InlineData(3 * 5 * 70_001, 0.1)] // odd, several blocks, so vector and scalar tails meet at every block's end
    [InlineData(65_536 + 15, 0.5)]
    [InlineData(1_001, 0.0)]
    public unsafe void Cpu_masks_are_SplitMix64_of_the_element_pair_counter_whatever_the_vector_width(int count, double p)
    {
        // An independent statement of the mask (the AVX-512 path must give exactly this, as the scalar one does).
        const ulong Key = 0x0F1E_2D3C_4B5A_6978UL;
        uint threshold = CpuDropoutMask.Threshold(p);
        float keep = (float)(1.0 / (1.0 - p));
        float[] mask = new float[count];
        fixed (float* m = mask)
        {
            CpuDropoutMask.Fill(m, count, Key, threshold, keep, threads: 2);
        }

        for (int e = 0; e < count; e++)
        {
            (uint uniform, float expected) = ExpectedMask(Key, e, threshold, keep);
            if (mask[e] != expected)
            {
                Assert.Fail($"element {e} of {count}: {mask[e]}, expected {expected} (uniform {uniform}, threshold {threshold})");
            }
        }
    }

    [Theory]
    [InlineData(0, 4, 0.3)]
    [InlineData(0, 1_003, 0.5)] // threshold 2³¹: the unsigned compare's sign flip at its edge
    [InlineData(5, 2_000, 0.9)] // a block that starts mid-way, as the second and later threads' blocks do
    [InlineData(32_768, 32_771, 0.1)]
    [InlineData(1_000_003, 1_000_003 + 257, 0.0)]
    public unsafe void The_AVX2_loop_writes_the_scalar_loops_bits_from_any_starting_pair(long startPair, long endPair, double p)
    {
        // Fill takes the AVX-512 loop where there is one, so on such machines the AVX2 loop is called here directly.
        if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            return; // no AVX2 (an Arm machine): Fill runs the scalar loop, which the test above checks
        }

        const ulong Key = 0x0F1E_2D3C_4B5A_6978UL;
        uint threshold = CpuDropoutMask.Threshold(p);
        float keep = (float)(1.0 / (1.0 - p));
        float[] mask = new float[2 * (endPair - startPair)];
        long next;
        fixed (float* m = mask)
        {
            // The loop writes pair i at element 2i of the destination: offset it so that element 2·startPair lands at 0.
            next = CpuDropoutMask.FillPairsAvx2(m - (2 * startPair), Key, threshold, keep, startPair, endPair);
        }

        Assert.Equal(endPair - ((endPair - startPair) % 4), next); // whole steps of four pairs, the rest left to the scalar loop
        for (long e = 2 * startPair; e < 2 * next; e++)
        {
            (uint uniform, float expected) = ExpectedMask(Key, e, threshold, keep);
            if (mask[e - (2 * startPair)] != expected)
            {
                Assert.Fail($"element {e}: {mask[e - (2 * startPair)]}, expected {expected} (uniform {uniform}, threshold {threshold})");
            }
        }
    }

    [Fact]
    public void Cpu_masks_are_independent_between_neighbours_and_across_halves_of_a_draw()
    {
        // Each 64-bit hash feeds two neighbouring elements; they must not be correlated, nor elements far apart.
        using var scope = NewDisposeScope();
        Tensor kept = CpuDropoutMask.Create([2_000_000], ScalarType.Float32, 0.5, new Generator(5)).ne(0).to(ScalarType.Float64);
        Tensor even = kept.slice(0, 0, 2_000_000, 2), odd = kept.slice(0, 1, 2_000_000, 2);
        double pairs = (even * odd).mean().item<double>();
        double shifted = (kept.narrow(0, 0, 1_000_000) * kept.narrow(0, 1_000_000, 1_000_000)).mean().item<double>();
        Assert.InRange(pairs, 0.25 - 0.003, 0.25 + 0.003); // ≈ 5 standard errors
        Assert.InRange(shifted, 0.25 - 0.003, 0.25 + 0.003);
    }

    [Fact]
    public void The_drop_threshold_is_p_to_within_two_to_the_minus_32()
    {
        foreach (double p in new[] { 1e-12, 0.1, 0.25, 0.5, 0.9, 1 - 1e-12 })
        {
            Assert.InRange(Math.Abs((CpuDropoutMask.Threshold(p) / 4294967296.0) - p), 0, Math.Pow(2, -32) + 1e-15);
        }
    }

    [Fact]
    public void Bf16_inputs_get_a_bf16_mask_and_keep_their_dtype()
    {
        torch.manual_seed(3);
        using var scope = NewDisposeScope();
        Tensor x = ones(10_000, dtype: ScalarType.BFloat16);
        Tensor y = FastDropout.Apply(x, 0.2);
        Assert.Equal(ScalarType.BFloat16, y.dtype);
        double kept = y.ne(0).to(ScalarType.Float64).mean().item<double>();
        Assert.InRange(kept, 0.8 - 0.02, 0.8 + 0.02);
        Assert.Equal(1.25, y.max().to(ScalarType.Float64).item<double>(), 2); // 1.25 is exact in bf16
    }

    [Fact]
    public void The_same_seeded_generator_gives_the_same_dropout_twice()
    {
        // The run's generator (a local one, so tests in parallel cannot draw from it in between).
        using var scope = NewDisposeScope();
        Tensor x = randn(4, 300);
        Tensor first, second;
        using (DropoutRandomness.Use(new Generator(77)))
        {
            first = FastDropout.Apply(x, 0.3);
        }

        using (DropoutRandomness.Use(new Generator(77)))
        {
            second = FastDropout.Apply(x, 0.3);
        }

        Assert.True(first.eq(second).all().item<bool>());
        Assert.True(first.eq(0).any().item<bool>());
    }

    // An independent statement of the mask: element e takes half of SplitMix64(key + (e / 2)·φ), kept at or above the threshold.
    private static (uint Uniform, float Expected) ExpectedMask(ulong key, long element, uint threshold, float keep)
    {
        ulong z = key + ((ulong)(element / 2) * 0x9E3779B97F4A7C15UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        uint uniform = element % 2 == 0 ? (uint)z : (uint)(z >> 32);
        return (uniform, uniform >= threshold ? keep : 0f);
    }
}
