using System.Globalization;
using System.Runtime.InteropServices;

namespace Bert.Sharp.Runtime;

/// <summary>
/// The handle of the <c>libtorch_cpu</c> that TorchSharp loaded, for the functions Bert.Sharp calls in it directly
/// (LibTorch's autocast, the MKL and the GNU OpenMP it links).
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
            return FindMapping() is { } mapping ? NativeLibrary.Load(mapping.Path) : 0;
        }

        string name = OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so";
        return NativeLibrary.TryLoad(name, typeof(TorchSharp.torch).Assembly, null, out nint handle) ? handle : 0;
    }

    /// <summary>
    /// Binds functions that <c>libtorch_cpu</c> exports or links, with what every such binding checks first: the opt-out
    /// variable (<c>0</c> or <c>false</c> switches it off), the platform (<paramref name="unsupportedPlatform"/>, null
    /// where supported), LibTorch loaded and its <c>libtorch_cpu</c> found. <paramref name="bind"/> gets that library's
    /// handle and returns the functions (or null) and the status; failures to open the library become the status too.
    /// </summary>
    public static (T? Functions, string Status) Bind<T>(string? optOutVariable, string? unsupportedPlatform, Func<nint, (T? Functions, string Status)> bind)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(bind);
        try
        {
            if (optOutVariable is not null && Environment.GetEnvironmentVariable(optOutVariable) is "0" or "false" or "False")
            {
                return (null, $"switched off ({optOutVariable}=0)");
            }

            if (unsupportedPlatform is not null)
            {
                return (null, unsupportedPlatform);
            }

            TorchRuntime.EnsureLoaded();
            nint library = Load();
            return library == 0 ? (null, "libtorch_cpu was not found among the loaded libraries") : bind(library);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException or IOException or UnauthorizedAccessException or EntryPointNotFoundException)
        {
            return (null, $"libtorch_cpu could not be opened: {e.Message}");
        }
    }

    /// <summary>
    /// The file of the loaded <c>libtorch_cpu.so</c> and the address its first mapping (file offset 0) starts at, from
    /// <c>/proc/self/maps</c>; null when it is not loaded or this is not Linux.
    /// </summary>
    public static (string Path, long Start)? FindMapping()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/self/maps"))
        {
            return null;
        }

        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            string[] parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 6 && parts[5].Trim().EndsWith("/libtorch_cpu.so", StringComparison.Ordinal) && long.Parse(parts[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == 0)
            {
                long start = long.Parse(parts[0].AsSpan(0, parts[0].IndexOf('-', StringComparison.Ordinal)), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                return (parts[5].Trim(), start);
            }
        }

        return null;
    }
}
