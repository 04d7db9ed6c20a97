using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Bert.Sharp.Runtime;

/// <summary>The elements of a contiguous float32 CPU tensor, for managed kernels that read and write them in place.</summary>
internal static unsafe class TensorMemory
{
    /// <summary>
    /// The first element of <paramref name="tensor"/>. Its span covers the tensor's own native memory, which does not
    /// move; the pointer is valid while the tensor lives.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not a contiguous float32 CPU tensor.</exception>
    public static float* Floats(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.dtype != ScalarType.Float32 || tensor.device_type != TorchSharp.DeviceType.CPU || !tensor.is_contiguous())
        {
            throw new ArgumentException($"A contiguous float32 CPU tensor is needed; got {tensor.dtype} on {tensor.device}, [{string.Join(", ", tensor.shape)}], contiguous: {tensor.is_contiguous()}.", nameof(tensor));
        }

        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(tensor.bytes));
    }
}
