using TorchSharp;

namespace Bert.Sharp.Benchmarks.Support;

/// <summary>The device every benchmark runs on: CUDA when TorchSharp sees one, else the CPU with one thread per core.</summary>
internal static class BenchmarkDevice
{
    private static readonly Lazy<torch.Device> Lazy = new(() =>
    {
        torch.Device device = TorchRuntime.DefaultDevice;
        if (device.type == DeviceType.CPU)
        {
            torch.set_num_threads(Environment.ProcessorCount);
        }

        return device;
    });

    public static torch.Device Device => Lazy.Value;

    /// <summary>Waits for queued GPU work so that a timing covers it; a no-op on the CPU.</summary>
    public static void Synchronize()
    {
        if (Device.type == DeviceType.CUDA)
        {
            torch.cuda.synchronize();
        }
    }
}
