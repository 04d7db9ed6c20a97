using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Bert.Sharp.Runtime;

/// <summary>
/// Where a tensor's storage begins in memory, read without making a tensor: TorchSharp's <c>storage&lt;T&gt;()</c> makes a
/// converted tensor per call, which a check run on every forward would pay for (four per layer). Compares storages; never
/// reads through the address.
/// </summary>
internal static partial class StorageAddress
{
    /// <summary>The address of the first element of <paramref name="tensor"/>'s storage (not of the tensor's first element).</summary>
    public static IntPtr Of(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        IntPtr address = StorageDataPointer(tensor.Handle);
        GC.KeepAlive(tensor);
        return address;
    }

    // TorchSharp's native library (loaded by TorchSharp before any tensor exists) exports this for its Storage class.
    [LibraryImport("LibTorchSharp", EntryPoint = "THSStorage_data_ptr")]
    private static partial IntPtr StorageDataPointer(IntPtr tensor);
}
