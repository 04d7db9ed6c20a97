using Bert.Sharp.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Training;

/// <summary>The fused CPU AdamW step against TorchSharp's own <c>AdamW.step</c>, on the same parameters and gradients.</summary>
public sealed class FusedAdamWStepTests
{
    // Odd sizes, a size over one work chunk (65,536) with a remainder, and sizes below one vector of 8.
    private static readonly long[][] Shapes = [[7], [3, 5], [384], [301, 333], [1]];

    private static (Parameter[] Decayed, Parameter[] Plain) Parameters(ulong seed)
    {
        using var generator = new Generator(seed, CPU);
        Parameter Make(long[] shape) => new(randn(shape, generator: generator));
        return ([.. Shapes.Where(s => s.Length == 2).Select(Make)], [.. Shapes.Where(s => s.Length == 1).Select(Make)]);
    }

    private static AdamW Optimizer(Parameter[] decayed, Parameter[] plain, bool amsgrad = false) => optim.AdamW(
        [new AdamW.ParamGroup(decayed, 1e-3, 0.9, 0.999, 1e-8, 0.01, amsgrad), new AdamW.ParamGroup(plain, 3e-3, 0.9, 0.999, 1e-8, 0.0, amsgrad)],
        1e-3, 0.9, 0.999, 1e-8, 0.01, amsgrad: amsgrad);

    private static void SetGradients(IEnumerable<Parameter> parameters, Generator generator, int step)
    {
        foreach (Parameter p in parameters)
        {
            // Gradients of several magnitudes, and an all-zero one, as a real run has.
            p.grad = step == 2 && p.numel() == 7 ? zeros_like(p) : randn(p.shape, generator: generator).mul_(Math.Pow(10, -step));
        }
    }

    /// <summary>Two identical parameter sets and optimizers, stepped <paramref name="steps"/> times on identical gradients.</summary>
    private static (Parameter[] A, Parameter[] B, AdamW OptimizerA, AdamW OptimizerB) Twins(ulong seed, int steps, Action<AdamW> stepA, Action<AdamW> stepB)
    {
        (Parameter[] decayedA, Parameter[] plainA) = Parameters(seed);
        (Parameter[] decayedB, Parameter[] plainB) = Parameters(seed);
        AdamW optimizerA = Optimizer(decayedA, plainA), optimizerB = Optimizer(decayedB, plainB);
        using var gradientsA = new Generator(seed + 1, CPU);
        using var gradientsB = new Generator(seed + 1, CPU);
        Parameter[] a = [.. decayedA, .. plainA], b = [.. decayedB, .. plainB];
        for (int step = 0; step < steps; step++)
        {
            SetGradients(a, gradientsA, step);
            SetGradients(b, gradientsB, step);
            stepA(optimizerA);
            stepB(optimizerB);
        }

        return (a, b, optimizerA, optimizerB);
    }

    [Fact]
    public void Matches_TorchSharps_AdamW_over_several_steps_in_parameters_moments_and_step_counts()
    {
        (Parameter[] a, Parameter[] b, AdamW reference, AdamW fused) = Twins(5, 6, o => o.step(), o => Assert.True(FusedAdamWStep.TryStep(o)));
        using (reference)
        using (fused)
        {
            var statesA = reference.state_dict().State.Cast<AdamW.State>().ToList();
            var statesB = fused.state_dict().State.Cast<AdamW.State>().ToList();
            for (int i = 0; i < a.Length; i++)
            {
                // float32 rounding only: the same operations in the same order, possibly contracted differently by the CPU kernels.
                AssertClose(a[i], b[i], $"parameter {i}");
                AssertClose(statesA[i].exp_avg, statesB[i].exp_avg, $"exp_avg {i}");
                AssertClose(statesA[i].exp_avg_sq, statesB[i].exp_avg_sq, $"exp_avg_sq {i}");
                Assert.Equal(statesA[i].step, statesB[i].step);
            }

            Assert.Equal(6, statesB[0].step);
        }
    }

    [Fact]
    public void The_result_does_not_depend_on_the_thread_count()
    {
        (Parameter[] a, Parameter[] b, AdamW one, AdamW many) = Twins(3, 3, o => Assert.True(FusedAdamWStep.TryStep(o, threads: 1)), o => Assert.True(FusedAdamWStep.TryStep(o, threads: 4)));
        using (one)
        using (many)
        {
            Assert.All(a.Zip(b), pair => Assert.True(pair.First.equal(pair.Second).all().item<bool>()));
        }
    }

    [Fact]
    public void A_parameter_without_gradient_is_left_alone_as_TorchSharp_does()
    {
        (Parameter[] decayed, Parameter[] plain) = Parameters(8);
        using AdamW adam = Optimizer(decayed, plain);
        using var generator = new Generator(1, CPU);
        SetGradients(decayed, generator, 0);
        using Tensor before = plain[0].detach().clone();
        Assert.True(FusedAdamWStep.TryStep(adam));
        Assert.True(plain[0].equal(before).all().item<bool>());
        var states = adam.state_dict().State.Cast<AdamW.State>().ToList();
        Assert.Equal(1, states[0].step);
        Assert.Equal(0, states[decayed.Length].step);
    }

    [Fact]
    public void AMSGrad_takes_TorchSharps_path()
    {
        (Parameter[] decayed, Parameter[] plain) = Parameters(2);
        using AdamW adam = Optimizer(decayed, plain, amsgrad: true);
        using var generator = new Generator(1, CPU);
        SetGradients(decayed.Concat(plain), generator, 0);
        using Tensor before = decayed[0].detach().clone();
        Assert.False(FusedAdamWStep.TryStep(adam));
        Assert.True(decayed[0].equal(before).all().item<bool>());
        Assert.All(adam.state_dict().State.Cast<AdamW.State>(), s => Assert.Equal(0, s.step));
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        double scale = Math.Max(1e-12, expected.abs().max().item<float>());
        double difference = (expected - actual).abs().max().item<float>();
        Assert.True(difference <= 1e-6 * scale, $"{what}: max |difference| {difference:G3} at scale {scale:G3}");
    }
}
