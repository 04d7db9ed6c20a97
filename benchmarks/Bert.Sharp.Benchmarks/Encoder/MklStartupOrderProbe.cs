using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Benchmarks.Encoder;

/// <summary>
/// <c>mkl-order [torch-first]</c>: what MKL runs after Bert.Sharp's AMD dispatch fix, in this process's start-up order —
/// Bert.Sharp first (the default), or a TorchSharp matrix product before Bert.Sharp's first use (<c>torch-first</c>).
/// Prints <c>TorchRuntime.MklCpuDispatchStatus</c>, MKL's own CPU detection (<c>mkl_serv_cpu_detect</c>: 0 for its generic
/// kernels) and the mean time of a 2048³ product over 10 calls. One process per order: MKL chooses once per process.
/// </summary>
internal static class MklStartupOrderProbe
{
    public static int Run(string[] args)
    {
        torch.InitializeDeviceType(DeviceType.CPU);
        if (args.Contains("torch-first"))
        {
            using Tensor early = randn(64, 64);
            early.matmul(early).Dispose();
        }

        Console.WriteLine($"status: {TorchRuntime.MklCpuDispatchStatus}");
        int? detected = Bert.Sharp.Runtime.MklCpuDispatch.DetectedCpu(Bert.Sharp.Runtime.LibTorchCpuLibrary.Load());
        using Tensor x = randn(2048, 2048);
        x.matmul(x).Dispose();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 10; i++)
        {
            x.matmul(x).Dispose();
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mkl_serv_cpu_detect: {detected?.ToString(CultureInfo.InvariantCulture) ?? "not exported"}; 2048³ product: {clock.Elapsed.TotalMilliseconds / 10:F1} ms"));
        return 0;
    }
}
