using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Runtime;

/// <summary>
/// The one place the library reads tensor values into .NET memory. <c>data&lt;T&gt;()</c> is a view of host memory and
/// is only valid on a CPU tensor (on a CUDA tensor it hands out a device pointer as if it were host memory), so every
/// read goes through a CPU copy here; a tensor without values (the <c>meta</c> device) fails with a message that names
/// its device instead of reaching native code. A source-scanning test keeps <c>data&lt;</c> and <c>item&lt;</c> out of
/// every other file. Each read of a device tensor waits for the device: call these at logging points, not per kernel.
/// </summary>
internal static class HostRead
{
    /// <summary>The elements of <paramref name="tensor"/> in row-major order, copied to the host.</summary>
    /// <exception cref="InvalidOperationException">The tensor lives on a device that holds no values (<c>meta</c>).</exception>
    public static T[] Values<T>(Tensor tensor)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(tensor);
        RequireValues(tensor);
        if (tensor.device_type == DeviceType.CPU && tensor.is_contiguous())
        {
            return tensor.data<T>().ToArray();
        }

        using Tensor host = tensor.cpu();
        using Tensor contiguous = host.contiguous();
        return contiguous.data<T>().ToArray();
    }

    /// <summary>The single element of <paramref name="tensor"/>, copied to the host.</summary>
    /// <exception cref="InvalidOperationException">The tensor lives on a device that holds no values (<c>meta</c>).</exception>
    public static T Item<T>(Tensor tensor)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(tensor);
        RequireValues(tensor);
        if (tensor.device_type == DeviceType.CPU)
        {
            return tensor.item<T>();
        }

        using Tensor host = tensor.cpu();
        return host.item<T>();
    }

    private static void RequireValues(Tensor tensor)
    {
        if (tensor.device_type == DeviceType.META)
        {
            throw new InvalidOperationException(
                $"A tensor of shape [{string.Join(", ", tensor.shape)}] on device '{tensor.device}' holds no values to read; " +
                "the computation that needs them must run on a device with memory (cpu or cuda).");
        }
    }
}
