using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Bert.Sharp.Runtime;

/// <summary>
/// LibTorch's version counter of a tensor (what PyTorch reads as <c>tensor._version</c>): every in-place change —
/// <c>add_</c>, <c>copy_</c>, <c>set_</c>, an optimizer step — increments it. TorchSharp 0.107 does not expose it, so it is
/// read through <c>at::TensorBase::_version()</c>, which <c>libtorch_cpu</c> exports, on TorchSharp's tensor handle (an
/// <c>at::Tensor*</c>). Lets a copy derived from a weight (the serving classes' packed weights) tell whether the
/// weight has changed since, without reading it.
/// </summary>
/// <remarks>
/// Resolved once, with a self-check (a fresh tensor reads 0, then 1 after one in-place add); where the export is missing or
/// the check fails, <see cref="IsAvailable"/> is false and callers do without (the packed weights are then not made).
/// Inference tensors (made under <c>inference_mode</c>) have no version counter and LibTorch throws a C++ exception for
/// them that must not reach .NET: callers read only tensors they made or checked outside inference mode
/// (<see cref="IsNormalTensor"/>).
/// </remarks>
internal static unsafe class TensorVersion
{
    /// <summary>The version counter of <paramref name="tensor"/>, which must be a normal (not an inference) tensor.</summary>
    /// <exception cref="InvalidOperationException">Version counters cannot be read here (<see cref="Status"/>).</exception>
    public static long Of(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        long version = Binding.Require("Reading a tensor's version counter").Read(tensor.Handle);
        GC.KeepAlive(tensor);
        return version;
    }

    /// <summary>
    /// Whether <paramref name="tensor"/> is a normal tensor (it has a version counter), found without reading the counter:
    /// outside inference mode, LibTorch refuses an in-place change of an inference tensor with an error TorchSharp turns
    /// into an exception, so an in-place multiply of an empty view of it (which touches no value) tells. The view shares
    /// the tensor's version counter, so a normal tensor's version goes up by one.
    /// </summary>
    public static bool IsNormalTensor(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (is_inference_mode_enabled() || tensor.dim() == 0)
        {
            return false;
        }

        try
        {
            using var noGrad = no_grad();
            using Tensor detached = tensor.detach(); // held, not a temporary: see TensorCopy
            using Tensor probe = detached.narrow(0, 0, 0); // a view whatever the strides (reshape could copy)
            HeldScalars.MultiplyInPlace(probe, 1.0);
            return true;
        }
        catch (ExternalException)
        {
            return false;
        }
    }

    /// <summary>Whether version counters can be read; if not, <see cref="Status"/> says why.</summary>
    public static bool IsAvailable => Binding.IsAvailable;

    /// <summary>"available", or why version counters cannot be read.</summary>
    public static string Status => Binding.Status;

    // Bound on first use; declared after the members that use it, as it is not part of what callers need.
    private static NativeBinding<Functions> Binding { get; } = new(Resolve);

    private static (Functions? Functions, string Status) Resolve() => LibTorchCpuLibrary.Bind(
        optOutVariable: null,
        unsupportedPlatform: null,
        library =>
        {
            // at::TensorBase::_version() const (Itanium C++ ABI; `this` is the at::Tensor TorchSharp's handle points to).
            if (!NativeLibrary.TryGetExport(library, "_ZNK2at10TensorBase8_versionEv", out nint read))
            {
                return (null, "libtorch_cpu does not export at::TensorBase::_version()");
            }

            // The check tensor must be a normal one even when the first use comes under inference mode (inference tensors
            // have no counter, and reading one would throw a C++ exception into .NET).
            var functions = new Functions(read);
            using var normalMode = inference_mode(false);
            using Tensor check = zeros(2);
            long before = functions.Read(check.Handle);
            using (var noGrad = no_grad())
            {
                HeldScalars.AddInPlace(check, 1.0);
            }

            long after = functions.Read(check.Handle);
            return before == 0 && after == 1 ? (functions, "available") : (null, $"self-check failed (versions {before} → {after}, expected 0 → 1)");
        });

    private sealed class Functions(nint read)
    {
        public long Read(IntPtr tensor) => ((delegate* unmanaged<IntPtr, long>)read)(tensor);
    }
}
