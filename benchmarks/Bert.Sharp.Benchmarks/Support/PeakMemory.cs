using System.Globalization;

namespace Bert.Sharp.Benchmarks.Support;

/// <summary>
/// Peak resident memory of this process on Linux: <c>/proc/self/clear_refs</c> ("5") resets the high-water mark, and
/// <c>VmHWM</c> in <c>/proc/self/status</c> reports it. Native (LibTorch) allocations are included, which the .NET
/// memory diagnoser cannot see.
/// </summary>
internal static class PeakMemory
{
    public static bool IsSupported => OperatingSystem.IsLinux() && File.Exists("/proc/self/clear_refs");

    /// <summary>Resets the high-water mark to the current resident size.</summary>
    public static void Reset() => File.WriteAllText("/proc/self/clear_refs", "5");

    /// <summary>The high-water mark since the last <see cref="Reset"/>, in bytes.</summary>
    public static long HighWaterMarkBytes() => ReadStatus("VmHWM:");

    /// <summary>Current resident size, in bytes.</summary>
    public static long ResidentBytes() => ReadStatus("VmRSS:");

    private static long ReadStatus(string key)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                string kb = line[key.Length..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"{key} not found in /proc/self/status.");
    }
}
