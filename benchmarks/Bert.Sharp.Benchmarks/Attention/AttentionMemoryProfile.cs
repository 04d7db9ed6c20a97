using System.Globalization;
using System.Text;
using Bert.Sharp.Attention;
using Bert.Sharp.Benchmarks.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Benchmarks.Attention;

/// <summary>
/// Peak extra resident memory of one attention forward per kernel (what BenchmarkDotNet's managed memory
/// diagnoser cannot see: LibTorch allocates natively). Run with <c>-- attention-memory</c>.
/// </summary>
public static class AttentionMemoryProfile
{
    public static string Run()
    {
        if (!PeakMemory.IsSupported)
        {
            return "Peak memory needs Linux /proc/self/clear_refs; not measured on this OS.";
        }

        Device device = BenchmarkDevice.Device;
        var table = new StringBuilder();
        table.AppendLine("| Sequence | Batch | eager peak (MiB) | sdpa peak (MiB) | chunked peak (MiB) | eager / sdpa | eager / chunked |");
        table.AppendLine("|---:|---:|---:|---:|---:|---:|---:|");
        foreach (int length in new[] { 128, 512, 2048 })
        {
            foreach (int batch in new[] { 1, 8 })
            {
                var peaks = new Dictionary<string, double>();
                foreach (string name in new[] { "eager", "sdpa", "chunked" })
                {
                    peaks[name] = Measure(AttentionKernels.Get(name), batch, length, device);
                }

                table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {length} | {batch} | {peaks["eager"]:F1} | {peaks["sdpa"]:F1} | {peaks["chunked"]:F1} | {peaks["eager"] / Math.Max(peaks["sdpa"], 0.1):F1}× | {peaks["eager"] / Math.Max(peaks["chunked"], 0.1):F1}× |"));
            }
        }

        return table.ToString();
    }

    private static double Measure(IAttentionKernel kernel, int batch, int length, Device device)
    {
        manual_seed(0);
        using Tensor q = randn(batch, 12, length, 32, device: device);
        using Tensor k = randn(batch, 12, length, 32, device: device);
        using Tensor v = randn(batch, 12, length, 32, device: device);
        using var noGrad = no_grad();
        // Warm once (thread pools, allocator), then measure the second call.
        using (NewDisposeScope())
        {
            kernel.Compute(q, k, v, null, 0.0, false);
        }

        GC.Collect();
        long before = PeakMemory.ResidentBytes();
        PeakMemory.Reset();
        using (NewDisposeScope())
        {
            kernel.Compute(q, k, v, null, 0.0, false);
            BenchmarkDevice.Synchronize();
        }

        long peak = PeakMemory.HighWaterMarkBytes();
        return Math.Max(0, peak - before) / (1024.0 * 1024.0);
    }
}
