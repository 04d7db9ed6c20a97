using System.Runtime.CompilerServices;

namespace Bert.Sharp.Tests.TestSupport;

/// <summary>Runs once, when the test assembly loads, before any test.</summary>
internal static class TestAssemblyStartup
{
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
}
