using System.Diagnostics;
using System.Globalization;

namespace Bert.Sharp.Tests.TestSupport;

/// <summary>
/// How far the process's resident memory rose while an action ran: native (LibTorch) and managed allocations together.
/// On Linux the kernel's high-water mark is reset first (<c>/proc/self/clear_refs</c> ← 5) and read after
/// (<c>VmHWM</c>), so the figure is the true peak during the action, however briefly it lasted. Elsewhere the process's
/// peak working set is compared before and after, which only sees a peak above every earlier one (a weaker check).
/// Run it in a collection that does not run in parallel with others.
/// </summary>
internal static class PeakMemory
{
    /// <summary>Runs <paramref name="action"/> (exceptions are swallowed and returned) and measures the peak growth in bytes.</summary>
    public static (long PeakGrowthBytes, Exception? Thrown) Measure(Action action)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        bool linux = OperatingSystem.IsLinux() && TryResetHighWaterMark();
        using Process process = Process.GetCurrentProcess();
        process.Refresh();
        long before = linux ? StatusBytes("VmRSS") : process.PeakWorkingSet64;
        Exception? thrown = null;
        try
        {
            action();
        }
        catch (Exception e)
        {
            thrown = e;
        }

        process.Refresh();
        long after = linux ? StatusBytes("VmHWM") : process.PeakWorkingSet64;
        return (Math.Max(0, after - before), thrown);
    }

    private static bool TryResetHighWaterMark()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return StatusBytes("VmHWM") > 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return false;
        }
    }

    private static long StatusBytes(string key)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
            {
                string kb = line[(key.Length + 1)..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new FormatException($"/proc/self/status has no {key}.");
    }
}
