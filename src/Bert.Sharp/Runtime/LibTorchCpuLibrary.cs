using System.Runtime.InteropServices;

namespace Bert.Sharp.Runtime;

/// <summary>
/// The handle of the <c>libtorch_cpu</c> that TorchSharp loaded, for the functions Bert.Sharp calls in it directly
/// (LibTorch's autocast, the MKL it links in).
/// </summary>
internal static class LibTorchCpuLibrary
{
    /// <summary>
    /// The copy TorchSharp already loaded (found in <c>/proc/self/maps</c> on Linux), not another one on the search path;
    /// 0 when there is none. LibTorch must be loaded first (<see cref="TorchRuntime.EnsureLoaded"/>).
    /// </summary>
    public static nint Load()
    {
        if (OperatingSystem.IsLinux() && File.Exists("/proc/self/maps"))
        {
            foreach (string line in File.ReadLines("/proc/self/maps"))
            {
                string[] parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length == 6 && parts[5].Trim().EndsWith("/libtorch_cpu.so", StringComparison.Ordinal))
                {
                    return NativeLibrary.Load(parts[5].Trim());
                }
            }

            return 0;
        }

        string name = OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so";
        return NativeLibrary.TryLoad(name, typeof(TorchSharp.torch).Assembly, null, out nint handle) ? handle : 0;
    }
}
