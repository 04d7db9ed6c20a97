using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Runtime;

/// <summary>
/// Where a float32 tensor's storage begins in memory, read without making a tensor: TorchSharp's <c>storage&lt;T&gt;()</c>
/// makes a converted tensor per call, which a check run on every forward would pay for (four per layer). Compares
/// storages; never reads through the address.
/// </summary>
internal static unsafe class StorageAddress
{
    // TorchSharp's native library exports this for its Storage class. Looked up as TorchSharp's own assembly loads that
    // library, so it is the copy TorchSharp uses; where it cannot be found, TorchSharp's Storage answers (same address,
    // one tensor more per call).
    private static readonly delegate* unmanaged<IntPtr, IntPtr> Export = Find();

    /// <summary>Whether the address is read directly (<c>false</c>: through TorchSharp's Storage, slower).</summary>
    public static bool IsDirect => Export is not null;

    /// <summary>The address of the first element of <paramref name="tensor"/>'s storage (not of the tensor's first element).</summary>
    /// <exception cref="ArgumentException">The tensor is not float32.</exception>
    public static IntPtr Of(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.dtype != ScalarType.Float32)
        {
            throw new ArgumentException($"Only float32 storages are compared; got {tensor.dtype}.", nameof(tensor));
        }

        if (Export is null)
        {
            using Storage<float> storage = tensor.storage<float>();
            return storage.data_ptr();
        }

        IntPtr address = Export(tensor.Handle);
        GC.KeepAlive(tensor);
        return address;
    }

    private static delegate* unmanaged<IntPtr, IntPtr> Find() =>
        NativeLibrary.TryLoad("LibTorchSharp", typeof(torch).Assembly, null, out nint library)
        && NativeLibrary.TryGetExport(library, "THSStorage_data_ptr", out nint function)
            ? (delegate* unmanaged<IntPtr, IntPtr>)function
            : null;
}
