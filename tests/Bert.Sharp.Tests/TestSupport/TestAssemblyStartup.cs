using System.Runtime.CompilerServices;

namespace Bert.Sharp.Tests.TestSupport;

/// <summary>Runs once, when the test assembly loads, before any test.</summary>
internal static class TestAssemblyStartup
{
    /// <summary>
    /// Set to 1 to run the whole suite with a thread that forces collections and runs finalizers without pause: a sweep for
    /// TorchSharp temporaries that a collection can free while a native call still reads them (docs/reliability.md,
    /// "Garbage collection during native calls"). About 20 minutes on 2 cores; not part of CI.
    /// </summary>
    internal const string GcPressureVariable = "BERT_SHARP_TEST_GC_PRESSURE";

    /// <summary>
    /// Loads LibTorch through Bert.Sharp before any test multiplies with TorchSharp directly: MKL picks its kernels at
    /// its first product, and on AMD processors only a product after Bert.Sharp's dispatch fix gets the fast ones
    /// (TorchRuntime.MklCpuDispatchStatus), so the suite's speed and MklCpuDispatchTests do not depend on test order.
    /// </summary>
#pragma warning disable CA2255 // A module initializer is the one place that runs before every test of the assembly.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void LoadLibTorchFirst()
    {
        if (Environment.GetEnvironmentVariable(GcPressureVariable) == "1")
        {
            StartGcPressure();
        }

        try
        {
            TorchRuntime.EnsureLoaded();
        }
        catch (InvalidOperationException)
        {
            // LibTorch does not load on this machine: left to the tests that need it, each of which then fails with
            // EnsureLoaded's message, instead of the whole assembly failing to load.
        }
    }

    private static void StartGcPressure()
    {
        var collector = new Thread(static () =>
        {
            while (true)
            {
                GC.Collect(0);
                GC.WaitForPendingFinalizers();
                Thread.Yield();
            }
        })
        {
            IsBackground = true,
            Name = GcPressureVariable,
        };
        collector.Start();
    }
}
