using Bert.Sharp.Training;
using System.Diagnostics;
using System.Globalization;
using Bert.Sharp.Benchmarks.Support;
using Bert.Sharp.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Benchmarks.Training;

/// <summary>
/// Where a full fine-tuning step's time goes (command <c>step-profile</c>): the step of
/// <see cref="FineTuningStepBenchmarks"/> split into forward, backward and AdamW with a Stopwatch, the same step without
/// dropout and with a frozen word-embedding table, and the pieces the profile points at (dropout, GELU) in isolation,
/// next to the 2048³ GEMM in the same process. Medians of several runs after warm-up; a diagnostic, not a
/// BenchmarkDotNet suite.
/// </summary>
internal static class StepProfile
{
    private const int Runs = 5;

    public static int Run(string[] args)
    {
        int batch = 32, sequence = 128;
        if (args.Length > 0 && args[0].Split('x') is [string b, string s])
        {
            batch = int.Parse(b, CultureInfo.InvariantCulture);
            sequence = int.Parse(s, CultureInfo.InvariantCulture);
        }

        Device device = BenchmarkDevice.Device;
        Line($"step-profile {batch}x{sequence}, {Environment.ProcessorCount} threads, {device}");

        using Tensor a = randn(2048, 2048, device: device), c = randn(2048, 2048, device: device);
        double gemm = TimeGemm(a, c);
        Line($"gemm 2048^3: {gemm:F1} ms = {GemmRate(gemm):F1} GFLOP/s (percentages below are of the faster of this and the final GEMM)");

        double flops = StepFlops(batch, sequence);
        var steps = new List<(string Name, double Forward, double Backward, double Adam)>();
        foreach ((string name, double hidden, double attention, string kernel, bool freezeWords) in new[]
        {
            ("step", 0.1, 0.1, "sdpa", false),
            ("step, no dropout", 0.0, 0.0, "sdpa", false),
            ("step, no attention dropout", 0.1, 0.0, "sdpa", false),
            ("step, eager attention, no dropout", 0.0, 0.0, "eager", false),
            ("step, frozen word embeddings", 0.1, 0.1, "sdpa", true),
        })
        {
            (double forward, double backward, double adam) = SplitStep(batch, sequence, hidden, attention, kernel, freezeWords);
            steps.Add((name, forward, backward, adam));
        }

        using (Tensor scores = randn(batch, 12, sequence, sequence, device: device).softmax(-1))
        {
            Line($"dropout on [{batch},12,{sequence},{sequence}] forward+backward: {TimeDropout(scores):F1} ms");
        }

        using (Tensor scores = empty(batch, 12, sequence, sequence, device: device))
        {
            Line($"rand_like on [{batch},12,{sequence},{sequence}]: {Median(() => { var w = Stopwatch.StartNew(); using Tensor r = rand_like(scores); return w.Elapsed.TotalMilliseconds; }):F1} ms");
            Line($"CpuDropoutMask on [{batch},12,{sequence},{sequence}]: {Median(() => { var w = Stopwatch.StartNew(); using Tensor r = CpuDropoutMask.Create(scores.shape, ScalarType.Float32, 0.1, null); return w.Elapsed.TotalMilliseconds; }):F1} ms");
            Line($"empty on [{batch},12,{sequence},{sequence}] + fill_: {Median(() => { var w = Stopwatch.StartNew(); using Tensor r = empty_like(scores).fill_(1); return w.Elapsed.TotalMilliseconds; }):F1} ms");
            Line($"bernoulli_ on [{batch},12,{sequence},{sequence}]: {Median(() => { var w = Stopwatch.StartNew(); scores.bernoulli_(0.9); return w.Elapsed.TotalMilliseconds; }):F1} ms");
            Line($"mul on [{batch},12,{sequence},{sequence}]: {Median(() => { var w = Stopwatch.StartNew(); using Tensor r = scores * scores; return w.Elapsed.TotalMilliseconds; }):F1} ms");
            Line($"softmax on [{batch},12,{sequence},{sequence}]: {Median(() => { var w = Stopwatch.StartNew(); using Tensor r = scores.softmax(-1); return w.Elapsed.TotalMilliseconds; }):F1} ms");
        }

        using (Embedding embedding = nn.Embedding(30522, 384, padding_idx: 0, device: device))
        using (Tensor ids = randint(1000, 30000, [batch, sequence], dtype: ScalarType.Int64, device: device))
        {
            Line($"embedding forward+backward [{batch}x{sequence}] from 30522x384: {Median(() =>
            {
                using var scope = NewDisposeScope();
                var w = Stopwatch.StartNew();
                Tensor o = embedding.call(ids);
                o.backward([ones_like(o)]);
                double e = w.Elapsed.TotalMilliseconds;
                embedding.weight!.grad?.Dispose();
                embedding.weight.grad = null;
                return e;
            }):F1} ms");
            using Tensor g = ones(batch * sequence, 384, device: device);
            using Tensor flat = ids.reshape(-1);
            Line($"index_put_ accumulate into 30522x384: {Median(() =>
            {
                using var scope = NewDisposeScope();
                var w = Stopwatch.StartNew();
                Tensor z = zeros(30522, 384, device: device);
                z.index_put_(g, [flat], accumulate: true);
                return w.Elapsed.TotalMilliseconds;
            }):F1} ms");
            Line($"index_add_ into 30522x384: {Median(() =>
            {
                using var scope = NewDisposeScope();
                var w = Stopwatch.StartNew();
                Tensor z = zeros(30522, 384, device: device);
                z.index_add_(0, flat, g, 1.0);
                return w.Elapsed.TotalMilliseconds;
            }):F1} ms");
        }

        using (Tensor hidden = randn(batch * sequence, 1536, device: device))
        {
            Line($"gelu on [{batch * sequence},1536] forward+backward: {TimeUnary(hidden, x => nn.functional.gelu(x)):F1} ms");
        }

        double products = TimeStepProducts(batch, sequence, device);
        Line($"the step's matrix products alone (every forward and backward GEMM of the linear layers and attention): {products:F0} ms");

        (double torchSharpAdam, double fusedAdam) = TimeAdamW(device);
        Line($"adamw over MiniLM-L6's 22.7 M parameters: TorchSharp's step {torchSharpAdam:F1} ms, fused step {fusedAdam:F1} ms");

        double gemmAfter = TimeGemm(a, c);
        Line($"gemm 2048^3 at the end: {gemmAfter:F1} ms = {GemmRate(gemmAfter):F1} GFLOP/s");
        double best = GemmRate(Math.Min(gemm, gemmAfter));
        double productRate = flops / (products / 1000) / 1e9;
        Line($"matrix products alone: {productRate:F1} GFLOP/s = {100 * productRate / best:F0}% of the GEMM (the ceiling for a step at these shapes)");
        foreach ((string name, double forward, double backward, double adam) in steps)
        {
            double total = forward + backward + adam;
            double rate = flops / (total / 1000) / 1e9;
            Line($"{name}: {total:F0} ms (forward {forward:F0}, backward {backward:F0}, adamw {adam:F0}) = {rate:F1} GFLOP/s = {100 * rate / best:F0}% of the GEMM");
        }

        return 0;
    }

    // MKL's first products in a process run slower (buffers, thread start-up); ten warm-up products settle it.
    private static double TimeGemm(Tensor a, Tensor c) => Median(warmUp: 10, measure: () =>
    {
        var watch = Stopwatch.StartNew();
        using Tensor product = a.matmul(c);
        BenchmarkDevice.Synchronize();
        return watch.Elapsed.TotalMilliseconds;
    });

    private static void Line(string text) => Console.WriteLine(text);

    private static double GemmRate(double milliseconds) => 2.0 * 2048 * 2048 * 2048 / (milliseconds / 1000) / 1e9;

    /// <summary>
    /// Analytic FLOPs of one training step at <paramref name="batch"/> × <paramref name="sequence"/>: forward matmuls per token
    /// per layer 2·(4H² + 2·H·I) plus attention 4·S·H, pooler and head; backward costs twice the forward.
    /// </summary>
    internal static double StepFlops(int batch, int sequence)
    {
        BertConfig shape = FineTuningStepBenchmarks.MiniLmShape;
        double h = shape.HiddenSize, i = shape.IntermediateSize, s = sequence, tokens = batch * sequence;
        double perLayer = tokens * ((2 * ((4 * h * h) + (2 * h * i))) + (4 * s * h));
        double forward = (shape.NumHiddenLayers * perLayer) + (batch * 2 * h * h) + (batch * 2 * h * 2);
        return 3 * forward;
    }

    private static (double Forward, double Backward, double Adam) SplitStep(int batch, int sequence, double hidden, double attention, string kernel, bool freezeWords)
    {
        Device device = BenchmarkDevice.Device;
        manual_seed(0);
        BertConfig shape = FineTuningStepBenchmarks.MiniLmShape with { HiddenDropoutProb = hidden, AttentionProbsDropoutProb = attention, AttentionImplementation = kernel };
        using var model = new BertModel(shape);
        model.to(device);
        using Linear head = nn.Linear(384, 2);
        head.to(device);
        model.train();
        if (freezeWords)
        {
            model.Embeddings.WordEmbeddings.weight!.requires_grad_(false);
        }

        using AdamW optimizer = optim.AdamW(model.parameters().Concat(head.parameters()).Where(p => p.requires_grad), lr: 2e-5);
        using Tensor ids = randint(1000, 30000, [batch, sequence], dtype: ScalarType.Int64, device: device);
        using Tensor labels = randint(0, 2, [batch], dtype: ScalarType.Int64, device: device);
        var forward = new List<double>();
        var backward = new List<double>();
        var adam = new List<double>();
        for (int run = 0; run < Runs + 2; run++)
        {
            using var scope = NewDisposeScope();
            // As TrainingRun does after each optimizer step: Module.zero_grad() releases the gradients (set_to_none), so backward hands
            // its gradients over instead of adding them to zero-filled tensors (TorchSharp's optimizer.zero_grad() fills zeros).
            model.zero_grad();
            head.zero_grad();
            var watch = Stopwatch.StartNew();
            Tensor loss = nn.functional.cross_entropy(head.call(model.Forward(ids).PooledOutput!), labels);
            BenchmarkDevice.Synchronize();
            double f = watch.Elapsed.TotalMilliseconds;
            watch.Restart();
            loss.backward();
            BenchmarkDevice.Synchronize();
            double b = watch.Elapsed.TotalMilliseconds;
            watch.Restart();
            FusedAdamWStep.Step(optimizer);
            BenchmarkDevice.Synchronize();
            if (run >= 2)
            {
                forward.Add(f);
                backward.Add(b);
                adam.Add(watch.Elapsed.TotalMilliseconds);
            }
        }

        return (MedianOf(forward), MedianOf(backward), MedianOf(adam));
    }

    /// <summary>
    /// Every matrix product of one step at the step's own shapes, and nothing else: per layer the six linear layers
    /// (forward, input gradient, weight gradient) and the four batched attention products forward and backward.
    /// </summary>
    private static double TimeStepProducts(int batch, int sequence, Device device)
    {
        BertConfig shape = FineTuningStepBenchmarks.MiniLmShape;
        int h = shape.HiddenSize, inter = shape.IntermediateSize, heads = shape.NumAttentionHeads, d = h / heads;
        long tokens = (long)batch * sequence;
        (int In, int Out)[] linears = [(h, h), (h, h), (h, h), (h, h), (h, inter), (inter, h)];
        var weights = linears.Select(l => randn(l.Out, l.In, device: device)).ToList();
        var inputs = linears.Select(l => randn(tokens, l.In, device: device)).ToList();
        var outputGradients = linears.Select(l => randn(tokens, l.Out, device: device)).ToList();
        using Tensor q = randn(batch * heads, sequence, d, device: device), k = randn(batch * heads, sequence, d, device: device);
        using Tensor v = randn(batch * heads, sequence, d, device: device), p = randn(batch * heads, sequence, sequence, device: device);
        using Tensor dContext = randn(batch * heads, sequence, d, device: device);
        try
        {
            return Median(() =>
            {
                var watch = Stopwatch.StartNew();
                for (int layer = 0; layer < shape.NumHiddenLayers; layer++)
                {
                    using var scope = NewDisposeScope();
                    for (int i = 0; i < linears.Length; i++)
                    {
                        _ = inputs[i].matmul(weights[i].t());                  // forward
                        _ = outputGradients[i].matmul(weights[i]);             // gradient of the input
                        _ = outputGradients[i].t().matmul(inputs[i]);          // gradient of the weight
                    }

                    _ = q.bmm(k.transpose(1, 2));                              // scores
                    _ = p.bmm(v);                                              // context
                    _ = dContext.bmm(v.transpose(1, 2));                       // gradient of the probabilities
                    _ = p.transpose(1, 2).bmm(dContext);                       // gradient of the values
                    _ = p.bmm(k);                                              // gradient of the queries
                    _ = p.transpose(1, 2).bmm(q);                              // gradient of the keys
                }

                BenchmarkDevice.Synchronize();
                return watch.Elapsed.TotalMilliseconds;
            });
        }
        finally
        {
            foreach (Tensor t in weights.Concat(inputs).Concat(outputGradients))
            {
                t.Dispose();
            }
        }
    }

    // Both steps on the same optimizer and gradients (the state keeps evolving; the cost does not depend on the values).
    private static (double TorchSharp, double Fused) TimeAdamW(Device device)
    {
        manual_seed(0);
        using var model = new BertModel(FineTuningStepBenchmarks.MiniLmShape);
        model.to(device);
        foreach (Parameter p in model.parameters())
        {
            p.grad = randn_like(p).mul_(1e-3);
        }

        using AdamW optimizer = optim.AdamW(model.parameters(), lr: 2e-5, weight_decay: 0.01);
        double torchSharp = Median(() => { var w = Stopwatch.StartNew(); optimizer.step(); BenchmarkDevice.Synchronize(); return w.Elapsed.TotalMilliseconds; });
        double fused = Median(() => { var w = Stopwatch.StartNew(); FusedAdamWStep.Step(optimizer); BenchmarkDevice.Synchronize(); return w.Elapsed.TotalMilliseconds; });
        return (torchSharp, fused);
    }

    private static double TimeDropout(Tensor probabilities) => TimeUnary(probabilities, x => FastDropout.Apply(x, 0.1));

    private static double TimeUnary(Tensor input, Func<Tensor, Tensor> function)
    {
        using Tensor leaf = input.detach().requires_grad_(true);
        return Median(() =>
        {
            using var scope = NewDisposeScope();
            var watch = Stopwatch.StartNew();
            Tensor output = function(leaf);
            output.backward([ones_like(output)]);
            BenchmarkDevice.Synchronize();
            double elapsed = watch.Elapsed.TotalMilliseconds;
            leaf.grad?.Dispose();
            leaf.grad = null;
            return elapsed;
        });
    }

    private static double Median(Func<double> measure, int warmUp = 2)
    {
        for (int i = 0; i < warmUp; i++)
        {
            measure();
        }

        return MedianOf([.. Enumerable.Range(0, Runs).Select(_ => measure())]);
    }

    private static double MedianOf(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
