using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace Bert.Sharp.Benchmarks.Deployment;

/// <summary>
/// <c>ort-profile MODEL.onnx [32x128] [runs]</c>: where ONNX Runtime spends one run of an exported model, by operator type
/// (its own profiler: <c>SessionOptions.EnableProfiling</c>, the kernel time of every node summed per type over the timed
/// runs, divided by their count). Shows what an export's extra operators cost (per-token quantization, the first token's
/// second row) next to its products, on the machine at hand, and what the session holds in memory.
/// </summary>
internal static class OrtOperatorProfile
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || !File.Exists(args[0]))
        {
            Console.Error.WriteLine("usage: ort-profile MODEL.onnx [32x128] [runs]");
            return 2;
        }

        (int batch, int length) = Support.RandomIdBatch.ParseShape(args.Length > 1 ? args[1] : "32x128");
        int runs = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 10;
        string? nodesOf = args.Length > 3 ? args[3] : null; // an operator type whose nodes are listed one by one
        string prefix = Path.Combine(Path.GetTempPath(), $"ort-profile-{Environment.ProcessId}");
        string profile;
        using (var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = Environment.ProcessorCount })
        {
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            IReadOnlyCollection<NamedOnnxValue> inputs = Support.OrtSessions.Inputs(Support.RandomIdBatch.Create(batch, length));
            long before = Support.PeakMemory.IsSupported ? Support.PeakMemory.ResidentBytes() : 0;
            using (var warm = new InferenceSession(args[0], options))
            {
                // Warm-up in a session without profiling, so first-run allocations stay out of the figures.
                for (int i = 0; i < 2; i++)
                {
                    using (warm.Run(inputs))
                    {
                    }
                }

                // The first session of the process: its growth of the resident memory is what the session holds (prepacked
                // and folded weights, buffers), not memory freed by an earlier one and reused.
                if (Support.PeakMemory.IsSupported)
                {
                    Console.WriteLine($"session memory: {(Support.PeakMemory.ResidentBytes() - before) / 1e6:F0} MB resident after loading and two runs (file {new FileInfo(args[0]).Length / 1e6:F1} MB)");
                }
            }

            options.EnableProfiling = true;
            options.ProfileOutputPathPrefix = prefix;
            using var session = new InferenceSession(args[0], options);
            using (session.Run(inputs))
            {
            }

            for (int i = 0; i < runs; i++)
            {
                using (session.Run(inputs))
                {
                }
            }

            profile = session.EndProfiling();
        }

        var perType = new Dictionary<string, (double Microseconds, int Nodes)>();
        var perNode = new Dictionary<string, double>();
        double total = 0;
        using (JsonDocument document = JsonDocument.Parse(File.ReadAllText(profile)))
        {
            foreach (JsonElement e in document.RootElement.EnumerateArray())
            {
                if (e.GetProperty("cat").GetString() != "Node" || !e.GetProperty("name").GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal))
                {
                    continue;
                }

                string type = e.GetProperty("args").GetProperty("op_name").GetString()!;
                double us = e.GetProperty("dur").GetDouble();
                if (type == nodesOf)
                {
                    string node = e.GetProperty("name").GetString()!;
                    perNode[node] = perNode.GetValueOrDefault(node) + us;
                }

                (double sum, int nodes) = perType.GetValueOrDefault(type);
                perType[type] = (sum + us, nodes + 1);
                total += us;
            }
        }

        File.Delete(profile);
        int counted = runs + 1;
        Console.WriteLine($"{Path.GetFileName(args[0])}, {batch}x{length}, {counted} runs profiled: {total / counted / 1000:F2} ms of kernels per run");
        Console.WriteLine("| operator | ms per run | share | nodes per run |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach ((string type, (double us, int nodes)) in perType.OrderByDescending(p => p.Value.Microseconds))
        {
            Console.WriteLine($"| {type} | {us / counted / 1000:F2} | {us / total:P1} | {nodes / counted} |");
        }

        foreach ((string node, double us) in perNode.OrderByDescending(p => p.Value))
        {
            Console.WriteLine($"| {node} | {us / counted / 1000:F3} |");
        }

        return 0;
    }
}
