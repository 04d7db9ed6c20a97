using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Runtime;

/// <summary>
/// Copies a batch built in host memory to the model's device. On CUDA the host tensor is pinned and copied without
/// blocking, so the host builds the next batch (or launches the next kernels) while the copy runs; LibTorch's pinned-memory
/// allocator keeps the host block until the copy is done. Elsewhere it is a plain <c>to(device)</c> (on the CPU, no copy).
/// </summary>
internal static class HostToDevice
{
    /// <summary><paramref name="host"/> (a CPU tensor) on <paramref name="device"/>.</summary>
    public static Tensor Copy(Tensor host, Device device)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(device);
        if (device.type != DeviceType.CUDA || host.device_type != DeviceType.CPU)
        {
            return host.to(device);
        }

        using Tensor pinned = host.pin_memory();
        return pinned.to(device, non_blocking: true);
    }
}
