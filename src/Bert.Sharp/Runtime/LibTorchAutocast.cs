using System.Globalization;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Bert.Sharp.Runtime;

/// <summary>
/// LibTorch's own autocast (<c>at::autocast</c>, what Python's <c>with torch.autocast(device, dtype):</c> switches on),
/// which TorchSharp 0.107 does not wrap, called through its exported C++ functions in <c>libtorch_cpu</c>.
/// </summary>
/// <remarks>
/// Inside a scope LibTorch itself decides each op's precision: matrix products (<c>linear</c>, <c>matmul</c>, <c>bmm</c>,
/// <c>addmm</c>, <c>scaled_dot_product_attention</c>) run in the low-precision dtype on casts of the fp32 weights (cached for
/// the scope); <c>cross_entropy</c> and the other losses run in fp32; elementwise ops follow their inputs, so BERT's residual
/// stream (fp32 embeddings + bf16 projections promote to fp32) keeps its LayerNorms in fp32. Parameters, their gradients and
/// the optimizer stay fp32. The state is thread-local in LibTorch: a scope applies to the thread that enters it.
/// The functions are found by their Itanium C++ names (Linux, macOS); their arguments are <c>int8</c> enums and <c>bool</c>,
/// stable since LibTorch 1.10. Where a name is missing (Windows' MSVC names, another LibTorch build) <see cref="IsAvailable"/>
/// is false and <see cref="Status"/> says why; callers then fall back to fp32 and say so.
/// </remarks>
internal static unsafe class LibTorchAutocast
{
    private static readonly NativeBinding<Functions> Binding = new(Resolve);

    /// <summary>Whether LibTorch's autocast functions were found.</summary>
    public static bool IsAvailable => Binding.IsAvailable;

    /// <summary>"available", or why not (names the library or the missing symbol).</summary>
    public static string Status => Binding.Status;

    /// <summary>Whether autocast is on for <paramref name="device"/> on this thread.</summary>
    public static bool IsEnabled(TorchSharp.DeviceType device) =>
        Binding.Functions is { } f && f.IsEnabled(DeviceCode(device)) != 0;

    /// <summary>The dtype autocast casts to on <paramref name="device"/> on this thread.</summary>
    public static ScalarType GetDtype(TorchSharp.DeviceType device) =>
        Binding.Functions is { } f ? (ScalarType)f.GetDtype(DeviceCode(device)) : ScalarType.Float32;

    /// <summary>
    /// Turns autocast to <paramref name="dtype"/> on for <paramref name="device"/> on this thread until the result is
    /// disposed, which restores the previous state (and, leaving the outermost scope, frees the cached weight casts).
    /// </summary>
    /// <exception cref="InvalidOperationException">The functions are not available (see <see cref="Status"/>).</exception>
    /// <exception cref="ArgumentException"><paramref name="device"/> is neither the CPU nor CUDA.</exception>
    public static Scope Enter(TorchSharp.DeviceType device, ScalarType dtype)
    {
        Functions f = Binding.Require("LibTorch's autocast");
        return new Scope(f, DeviceCode(device), dtype);
    }

    private static sbyte DeviceCode(TorchSharp.DeviceType device) => device switch
    {
        // c10::DeviceType: CPU = 0, CUDA = 1.
        TorchSharp.DeviceType.CPU => 0,
        TorchSharp.DeviceType.CUDA => 1,
        _ => throw new ArgumentException($"Mixed precision supports the CPU and CUDA, not {device}.", nameof(device)),
    };

    private static (Functions? Functions, string Status) Resolve() => LibTorchCpuLibrary.Bind(
        optOutVariable: null,
        OperatingSystem.IsWindows() ? "not available on Windows (LibTorch's autocast is reachable only by its C++ names, which MSVC mangles differently)" : null,
        library =>
        {
            try
            {
                return (new Functions(library), "available");
            }
            catch (EntryPointNotFoundException e)
            {
                return (null, $"a LibTorch autocast function is missing ({e.Message}); this LibTorch build differs from the one Bert.Sharp was tested with");
            }
        });

    /// <summary>Restores the autocast state it replaced when disposed.</summary>
    internal sealed class Scope : IDisposable
    {
        private readonly Functions functions;
        private readonly sbyte device;
        private readonly bool previousEnabled;
        private readonly sbyte previousDtype;
        private bool disposed;

        internal Scope(Functions functions, sbyte device, ScalarType dtype)
        {
            this.functions = functions;
            this.device = device;
            previousEnabled = functions.IsEnabled(device) != 0;
            previousDtype = functions.GetDtype(device);
            functions.SetDtype(device, (sbyte)dtype);
            functions.SetEnabled(device, 1);
            functions.IncrementNesting();
        }

        /// <summary>Leaves the scope.</summary>
        public void Dispose()
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            if (functions.DecrementNesting() == 0)
            {
                functions.ClearCache();
            }

            functions.SetEnabled(device, previousEnabled ? (byte)1 : (byte)0);
            functions.SetDtype(device, previousDtype);
        }
    }

    /// <summary>The resolved function pointers (c10::DeviceType and c10::ScalarType are int8 enums).</summary>
    internal sealed class Functions
    {
        public Functions(nint library)
        {
            SetEnabled = (delegate* unmanaged<sbyte, byte, void>)Export(library, "_ZN2at8autocast20set_autocast_enabledEN3c1010DeviceTypeEb");
            IsEnabled = (delegate* unmanaged<sbyte, byte>)Export(library, "_ZN2at8autocast19is_autocast_enabledEN3c1010DeviceTypeE");
            SetDtype = (delegate* unmanaged<sbyte, sbyte, void>)Export(library, "_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE");
            GetDtype = (delegate* unmanaged<sbyte, sbyte>)Export(library, "_ZN2at8autocast18get_autocast_dtypeEN3c1010DeviceTypeE");
            ClearCache = (delegate* unmanaged<void>)Export(library, "_ZN2at8autocast11clear_cacheEv");
            IncrementNesting = (delegate* unmanaged<long>)Export(library, "_ZN2at8autocast17increment_nestingEv");
            DecrementNesting = (delegate* unmanaged<long>)Export(library, "_ZN2at8autocast17decrement_nestingEv");
        }

        public delegate* unmanaged<sbyte, byte, void> SetEnabled { get; }

        public delegate* unmanaged<sbyte, byte> IsEnabled { get; }

        public delegate* unmanaged<sbyte, sbyte, void> SetDtype { get; }

        public delegate* unmanaged<sbyte, sbyte> GetDtype { get; }

        public delegate* unmanaged<void> ClearCache { get; }

        public delegate* unmanaged<long> IncrementNesting { get; }

        public delegate* unmanaged<long> DecrementNesting { get; }

        private static nint Export(nint library, string name) =>
            NativeLibrary.TryGetExport(library, name, out nint address)
                ? address
                : throw new EntryPointNotFoundException(string.Format(CultureInfo.InvariantCulture, "symbol {0} not exported by libtorch_cpu", name));
    }
}
