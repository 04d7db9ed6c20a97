using System.Globalization;
using Bert.Sharp.Benchmarks.Support;
using static TorchSharp.torch;

namespace Bert.Sharp.Benchmarks.Training;

/// <summary>
/// How fast MKL runs each linear-layer product of a MiniLM fine-tuning step at 32 × 128 (command
/// <c>gemm-shapes [rounds]</c>): the forward, input-gradient and weight-gradient products of the fused Q/K/V, attention
/// output, intermediate and output layers, each against the 2048³ GEMM, taking turns round by round. Says how far the
/// step's products themselves are from the GEMM rate the step is measured against.
/// </summary>
internal static class GemmShapeProbe
{
    private const long Tokens = 32 * 128;
    private const int Hidden = 384, Intermediate = 1536;

    public static int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 15;
        Console.WriteLine($"gemm-shapes, {rounds} rounds, {get_num_threads()} threads; MiniLM's linear products at {Tokens} tokens");
        var products = new List<Product>
        {
            new("2048³ GEMM", 2048, 2048, 2048, false, false),
            new("forward Q/K/V", Tokens, Hidden, 3 * Hidden, false, true),
            new("forward attention output", Tokens, Hidden, Hidden, false, true),
            new("forward intermediate", Tokens, Hidden, Intermediate, false, true),
            new("forward output", Tokens, Intermediate, Hidden, false, true),
            new("input gradient Q/K/V", Tokens, 3 * Hidden, Hidden, false, false),
            new("input gradient attention output", Tokens, Hidden, Hidden, false, false),
            new("input gradient intermediate", Tokens, Intermediate, Hidden, false, false),
            new("input gradient output", Tokens, Hidden, Intermediate, false, false),
            new("weight gradient Q/K/V", 3 * Hidden, Tokens, Hidden, true, false),
            new("weight gradient attention output", Hidden, Tokens, Hidden, true, false),
            new("weight gradient intermediate", Intermediate, Tokens, Hidden, true, false),
            new("weight gradient output", Hidden, Tokens, Intermediate, true, false),
        };

        try
        {
            double[] medians = TakingTurns.Medians(rounds, [.. products.Select(p => (Action)p.Run)]);
            double gemmRate = products[0].Flops / medians[0];
            double total = 0;
            for (int i = 0; i < products.Count; i++)
            {
                double rate = products[i].Flops / medians[i];
                total += i > 0 ? medians[i] : 0;
                Console.WriteLine(FormattableString.Invariant($"{products[i].Name,-34} {products[i].Shape,-26} {medians[i],7:F2} ms {rate / 1e6,6:F1} GFLOP/s = {100 * rate / gemmRate,3:F0} % of the GEMM"));
            }

            double layerFlops = products.Skip(1).Sum(p => p.Flops);
            Console.WriteLine(FormattableString.Invariant($"one layer's linear products: {total:F1} ms = {100 * (layerFlops / total) / gemmRate:F0} % of the GEMM rate"));
        }
        finally
        {
            foreach (Product product in products)
            {
                product.Dispose();
            }
        }

        return 0;
    }

    // C[m × n] = op(A)·op(B) with A [m × k] (stored transposed when asked) and B [k × n] (likewise), as the step's linear layers run them.
    private sealed class Product : IDisposable
    {
        private readonly Tensor a, b, left, right;

        public Product(string name, long m, long k, long n, bool transposeA, bool transposeB)
        {
            Name = name;
            Shape = FormattableString.Invariant($"[{m}×{k}]·[{k}×{n}]{(transposeA ? " Aᵀ" : string.Empty)}{(transposeB ? " Bᵀ" : string.Empty)}");
            Flops = 2.0 * m * k * n;
            a = transposeA ? randn(k, m) : randn(m, k);
            b = transposeB ? randn(n, k) : randn(k, n);
            left = transposeA ? a.t() : a;
            right = transposeB ? b.t() : b;
        }

        public string Name { get; }

        public string Shape { get; }

        public double Flops { get; }

        public void Run()
        {
            using Tensor product = left.matmul(right);
        }

        public void Dispose()
        {
            right.Dispose();
            left.Dispose();
            b.Dispose();
            a.Dispose();
        }
    }
}
