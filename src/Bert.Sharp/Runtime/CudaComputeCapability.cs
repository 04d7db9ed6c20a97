using System.Runtime.InteropServices;

namespace Bert.Sharp.Runtime;

/// <summary>
/// The compute capability of a CUDA device, read from the CUDA driver (<c>cuDeviceGetAttribute</c>), which TorchSharp does
/// not expose. Native bf16 matrix products (tensor cores) start at 8.0 (Ampere); older GPUs emulate them slowly.
/// </summary>
internal static unsafe class CudaComputeCapability
{
    /// <summary>CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR of the driver API.</summary>
    private const int ComputeCapabilityMajorAttribute = 75;

    /// <summary>The major compute capability of CUDA device <paramref name="ordinal"/>, or <c>null</c> when the driver cannot be asked.</summary>
    public static int? Major(int ordinal)
    {
        string library = OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1";
        if (!NativeLibrary.TryLoad(library, out nint handle))
        {
            return null;
        }

        if (!NativeLibrary.TryGetExport(handle, "cuInit", out nint init) ||
            !NativeLibrary.TryGetExport(handle, "cuDeviceGet", out nint get) ||
            !NativeLibrary.TryGetExport(handle, "cuDeviceGetAttribute", out nint attribute))
        {
            return null;
        }

        int device = 0, major = 0;
        if (((delegate* unmanaged<uint, int>)init)(0) != 0 ||
            ((delegate* unmanaged<int*, int, int>)get)(&device, Math.Max(ordinal, 0)) != 0 ||
            ((delegate* unmanaged<int*, int, int, int>)attribute)(&major, ComputeCapabilityMajorAttribute, device) != 0)
        {
            return null;
        }

        return major;
    }
}
