using System.Globalization;
using Bert.Sharp.Attention;
using Bert.Sharp.Benchmarks.Support;
using Bert.Sharp.Modeling;
using static TorchSharp.torch;

namespace Bert.Sharp.Benchmarks.Training;

/// <summary>
/// One MiniLM layer's training attention with dropout on the CPU, forward and backward (command
/// <c>attention-dropout-ab [32x128] [rounds] [--unpadded]</c>), taking turns round by round (<see cref="TakingTurns"/>): the eager chain
/// (masked_fill_, torch's softmax, <see cref="FastDropout"/>'s mask and multiply, between the two batched products), the
/// head-by-head <see cref="CpuFusedAttention"/> on LibTorch's OpenMP threads and on .NET's thread pool, and LibTorch's
/// fused attention without dropout (which it cannot apply: the floor, what attention costs with attention dropout off).
/// A ragged batch by default, as dynamic padding leaves it. Reports medians and ratios.
/// </summary>
internal static class AttentionDropoutComparison
{
    private const int Heads = 12, HeadSize = 32;
    private const double Probability = 0.1;

    public static int Run(string[] args)
    {
        int batch = 32, sequence = 128, rounds = 15;
        if (args.Length > 0 && args[0].Split('x') is [string b, string s])
        {
            batch = int.Parse(b, CultureInfo.InvariantCulture);
            sequence = int.Parse(s, CultureInfo.InvariantCulture);
        }

        if (args.Length > 1 && !args[1].StartsWith("--", StringComparison.Ordinal))
        {
            rounds = int.Parse(args[1], CultureInfo.InvariantCulture);
        }

        bool padded = !args.Contains("--unpadded");
        Console.WriteLine($"attention-dropout-ab {batch}x{sequence}, {rounds} rounds, {get_num_threads()} threads, p = {Probability}, {(padded ? "a ragged batch (sequence i keeps between half and all of its keys)" : "no padding")}; MKL for the head-by-head kernel: {Runtime.MklGemm.Status}; LibTorch's OpenMP team: {Runtime.LibTorchThreadTeam.Status}");
        manual_seed(0);
        using Tensor query = randn(batch, Heads, sequence, HeadSize), key = randn(batch, Heads, sequence, HeadSize), value = randn(batch, Heads, sequence, HeadSize);
        using Tensor? padding = !padded ? null : arange(sequence).unsqueeze(0).lt(tensor(Enumerable.Range(0, batch).Select(i => (long)((sequence / 2) + (i * sequence / 2 / batch))).ToArray()).unsqueeze(1));

        (string Name, Func<Tensor, Tensor, Tensor, Tensor?, Tensor> Attention)[] variants =
        [
            ("eager chain (masked_fill_, softmax, FastDropout)", (q, k, v, m) => Composition(Scores(q, k), m).matmul(v)),
            ("CpuFusedAttention (head by head, on LibTorch's OpenMP threads)", (q, k, v, m) => CpuFusedAttention.Apply(q, k, v, m, Probability)),
            ("CpuFusedAttention on .NET's thread pool (as before LibTorchThreadTeam)", (q, k, v, m) => OnThreadPool(() => CpuFusedAttention.Apply(q, k, v, m, Probability))),
            ("LibTorch's fused attention without dropout (floor)", (q, k, v, m) => nn.functional.scaled_dot_product_attention(q, k, v, m?.unsqueeze(1).unsqueeze(1))),
        ];

        // Each turn runs one forward + backward untimed after the switch, then one timed (TakingTurns).
        double[] medians = TakingTurns.Medians(rounds, [.. variants.Select(variant => (Action)(() =>
        {
            using var scope = NewDisposeScope();
            Tensor q = query.detach().requires_grad_(), k = key.detach().requires_grad_(), v = value.detach().requires_grad_();
            try
            {
                Tensor output = variant.Attention(q, k, v, padding);
                output.backward([ones_like(output)]);
            }
            finally
            {
                Runtime.LibTorchThreadTeam.Enabled = true;
            }
        }))]);

        for (int v = 0; v < variants.Length; v++)
        {
            Console.WriteLine($"{variants[v].Name}: forward+backward median {medians[v]:F1} ms = {medians[v] / medians[0]:F2} of the eager chain");
        }

        Console.WriteLine("(one layer; MiniLM-L6 has six)");
        return 0;
    }

    // The kernel's per-head work on .NET's thread pool, as it ran before it ran on LibTorch's OpenMP team (forward here;
    // the backward runs later, in output.backward, so the switch stays off until the turn ends).
    private static Tensor OnThreadPool(Func<Tensor> attention)
    {
        Runtime.LibTorchThreadTeam.Enabled = false;
        return attention();
    }

    private static Tensor Scores(Tensor query, Tensor key) => query.mul(1.0 / Math.Sqrt(HeadSize)).matmul(key.transpose(-1, -2));

    private static Tensor Composition(Tensor scores, Tensor? padding)
    {
        // As the eager kernel did: masked_fill_ in place on the fresh scores.
        using Tensor? blocked = padding?.logical_not().unsqueeze(1).unsqueeze(1);
        Tensor filled = blocked is null ? scores : scores.masked_fill_(blocked, float.MinValue);
        return FastDropout.Apply(nn.functional.softmax(filled, -1), Probability);
    }
}
