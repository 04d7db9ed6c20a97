using System.Globalization;
using Bert.Sharp.Attention;
using Bert.Sharp.Benchmarks.Support;
using Bert.Sharp.Modeling;
using static TorchSharp.torch;

namespace Bert.Sharp.Benchmarks.Training;

/// <summary>
/// One MiniLM layer's training attention with dropout on the CPU, forward and backward, from the fused Q/K/V projection to
/// the merged context as the self-attention block runs it (command
/// <c>attention-dropout-ab [32x128] [rounds] [--unpadded]</c>), taking turns round by round (<see cref="TakingTurns"/>): the eager chain
/// (masked_fill_, torch's softmax, <see cref="FastDropout"/>'s mask and multiply, between the two batched products), the
/// head-by-head <see cref="CpuFusedAttention"/> over the packed projection (on LibTorch's OpenMP threads, and on .NET's thread
/// pool) and over three split tensors, and LibTorch's
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
        // What the self-attention block hands over: the fused Q/K/V projection [batch, sequence, 3 · heads · d]. Every
        // variant goes from it to the merged context [batch, sequence, heads · d], as the block does.
        using Tensor projection = randn(batch, sequence, 3 * Heads * HeadSize);
        using Tensor? padding = !padded ? null : arange(sequence).unsqueeze(0).lt(tensor(Enumerable.Range(0, batch).Select(i => (long)((sequence / 2) + (i * sequence / 2 / batch))).ToArray()).unsqueeze(1));

        (string Name, Func<Tensor, Tensor?, Tensor> Attention)[] variants =
        [
            ("eager chain (masked_fill_, softmax, FastDropout)", (x, m) => Split(x, (q, k, v) => Composition(Scores(q, k), m).matmul(v))),
            ("CpuFusedAttention over the packed projection, on LibTorch's OpenMP threads (the default)", (x, m) => CpuFusedAttention.ApplyPacked(x, Heads, m, Probability)),
            ("CpuFusedAttention over three split tensors (the heads copied out and merged back)", (x, m) => Split(x, (q, k, v) => CpuFusedAttention.Apply(q, k, v, m, Probability))),
            ("CpuFusedAttention over the packed projection, on .NET's thread pool", (x, m) => OnThreadPool(() => CpuFusedAttention.ApplyPacked(x, Heads, m, Probability))),
            ("LibTorch's fused attention without dropout (floor)", (x, m) => Split(x, (q, k, v) => nn.functional.scaled_dot_product_attention(q, k, v, m?.unsqueeze(1).unsqueeze(1)))),
        ];

        // Each turn runs one forward + backward untimed after the switch, then one timed (TakingTurns).
        double[] medians = TakingTurns.Medians(rounds, [.. variants.Select(variant => (Action)(() =>
        {
            using var scope = NewDisposeScope();
            try
            {
                Tensor output = variant.Attention(projection.detach().requires_grad_(), padding);
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

    // As the block splits the heads out of the projection and merges them back.
    private static Tensor Split(Tensor projection, Func<Tensor, Tensor, Tensor, Tensor> attention)
    {
        long batch = projection.shape[0], sequence = projection.shape[1];
        Tensor heads = projection.view(batch, sequence, 3, Heads, HeadSize).permute(2, 0, 3, 1, 4);
        return attention(heads[0], heads[1], heads[2]).transpose(1, 2).reshape(batch, sequence, Heads * HeadSize);
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
