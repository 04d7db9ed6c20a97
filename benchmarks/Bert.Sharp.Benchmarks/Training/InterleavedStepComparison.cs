using System.Diagnostics;
using System.Globalization;
using Bert.Sharp.Benchmarks.Support;
using static TorchSharp.torch;

namespace Bert.Sharp.Benchmarks.Training;

/// <summary>
/// The full fine-tuning step of <see cref="FineTuningStepBenchmarks"/> against the 2048³ GEMM, interleaved (command
/// <c>step-ab [32x128] [rounds]</c>): every round times the GEMM and five steps in rotating order — as the trainer runs it
/// (dropout 0.1, gradients released after the optimizer step), with gradients zeroed in place instead, without dropout, and
/// with the eager attention chain (what the default kernel ran with dropout on the CPU before the head-by-head kernel), and
/// with Bert.Sharp's own kernels on .NET's thread pool instead of LibTorch's OpenMP team (<see cref="Runtime.LibTorchThreadTeam"/>). On a host whose speed drifts (a shared VM), the ratio of two suites run minutes
/// apart moves with the drift; a ratio within one round does not. Reports the median of the per-round ratios.
/// </summary>
internal static class InterleavedStepComparison
{
    public static int Run(string[] args)
    {
        int batch = 32, sequence = 128, rounds = 15;
        if (args.Length > 0 && args[0].Split('x') is [string b, string s])
        {
            batch = int.Parse(b, CultureInfo.InvariantCulture);
            sequence = int.Parse(s, CultureInfo.InvariantCulture);
        }

        if (args.Length > 1)
        {
            rounds = int.Parse(args[1], CultureInfo.InvariantCulture);
        }

        Device device = BenchmarkDevice.Device;
        Console.WriteLine($"step-ab {batch}x{sequence}, {rounds} rounds, {Environment.ProcessorCount} threads, {device}; LibTorch's OpenMP team: {Runtime.LibTorchThreadTeam.Status}");
        using Tensor a = randn(2048, 2048, device: device), c = randn(2048, 2048, device: device);
        BertConfig shape = FineTuningStepBenchmarks.MiniLmShape;
        StepUnderTest[] steps =
        [
            new("step (dropout 0.1, gradients released as the trainer does)", new TrainingStepRunner(batch, sequence), ReleaseGradients: true),
            new("step, gradients zeroed in place (TorchSharp's optimizer.zero_grad)", new TrainingStepRunner(batch, sequence), ReleaseGradients: false),
            new("step without dropout", new TrainingStepRunner(batch, sequence, shape: shape with { HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0 }), ReleaseGradients: true),
            // The default kernel with dropout on the CPU ran the eager chain until CpuFusedAttention: the step as it was.
            new("step, eager attention chain (dropout 0.1; the default before the head-by-head kernel)", new TrainingStepRunner(batch, sequence, shape: shape with { AttentionImplementation = "eager" }), ReleaseGradients: true),
            // Bert.Sharp's own kernels (attention head by head, dropout masks, AdamW) on .NET's thread pool, as they ran before LibTorchThreadTeam.
            new("step, own kernels on .NET's thread pool (dropout 0.1)", new TrainingStepRunner(batch, sequence), ReleaseGradients: true, OnThreadPool: true),
        ];

        double Gemm()
        {
            var times = new List<double>();
            for (int i = 0; i < 3; i++)
            {
                var watch = Stopwatch.StartNew();
                using Tensor product = a.matmul(c);
                BenchmarkDevice.Synchronize();
                times.Add(watch.Elapsed.TotalMilliseconds);
            }

            return MedianOf(times);
        }

        try
        {
            // Warm-up: MKL's first products, the allocator's first large blocks, the JIT's optimised code for every step.
            for (int i = 0; i < 10; i++)
            {
                using Tensor product = a.matmul(c);
            }

            for (int i = 0; i < 2; i++)
            {
                foreach (StepUnderTest step in steps)
                {
                    step.Time();
                }
            }

            var gemms = new List<double>();
            var times = steps.Select(_ => new List<double>()).ToArray();
            var ratios = steps.Select(_ => new List<double>()).ToArray();
            for (int round = 0; round < rounds; round++)
            {
                double gemm = Gemm();
                gemms.Add(gemm);
                var line = new System.Text.StringBuilder(FormattableString.Invariant($"round {round + 1}: gemm {gemm:F1} ms"));
                // Rotate the order every round, so no variant always follows the GEMM.
                for (int k = 0; k < steps.Length; k++)
                {
                    int index = (k + round) % steps.Length;
                    double time = steps[index].Time();
                    times[index].Add(time);
                    ratios[index].Add(time / gemm);
                }

                for (int index = 0; index < steps.Length; index++)
                {
                    line.Append(FormattableString.Invariant($"; {steps[index].Name} {times[index][^1]:F0} ms ({ratios[index][^1]:F2}x)"));
                }

                Console.WriteLine(line.ToString());
            }

            // Share of the GEMM rate = (step FLOPs / step time) / (GEMM FLOPs / GEMM time) = (step FLOPs / GEMM FLOPs) / ratio.
            double work = StepProfile.StepFlops(batch, sequence) / (2.0 * 2048 * 2048 * 2048);
            Console.WriteLine(FormattableString.Invariant($"gemm median {MedianOf(gemms):F1} ms; a step is {work:F2} GEMMs of work, so 80 % of the GEMM rate is a ratio of {work / 0.8:F2}"));
            for (int index = 0; index < steps.Length; index++)
            {
                Report(steps[index].Name, times[index], ratios[index], work);
            }
        }
        finally
        {
            foreach (StepUnderTest step in steps)
            {
                step.Runner.Dispose();
            }
        }

        return 0;
    }

    private static void Report(string name, List<double> times, List<double> ratios, double work) =>
        Console.WriteLine(FormattableString.Invariant($"{name}: median {MedianOf(times):F0} ms, median ratio {MedianOf(ratios):F2} = {100 * work / MedianOf(ratios):F1} % of the GEMM rate (middle half of the rounds {100 * work / Quartile(ratios, 3):F0}-{100 * work / Quartile(ratios, 1):F0} %)"));

    private static double MedianOf(List<double> values) => Quartile(values, 2);

    private static double Quartile(List<double> values, int quarter)
    {
        var sorted = values.Order().ToList();
        double position = (sorted.Count - 1) * quarter / 4.0;
        int below = (int)Math.Floor(position);
        int above = (int)Math.Ceiling(position);
        return sorted[below] + ((sorted[above] - sorted[below]) * (position - below));
    }

    // A runner and how its gradients are cleared; timed around the whole step (clearing included).
    private sealed record StepUnderTest(string Name, TrainingStepRunner Runner, bool ReleaseGradients, bool OnThreadPool = false)
    {
        public double Time()
        {
            Runtime.LibTorchThreadTeam.Enabled = !OnThreadPool;
            try
            {
                var watch = Stopwatch.StartNew();
                Runner.Step(releaseGradients: ReleaseGradients);
                return watch.Elapsed.TotalMilliseconds;
            }
            finally
            {
                Runtime.LibTorchThreadTeam.Enabled = true;
            }
        }
    }
}
