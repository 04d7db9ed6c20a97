using static TorchSharp.torch;

namespace Bert.Sharp.Runtime;

/// <summary>
/// Copies of tensors made outside a forward pass's dispose scope (loading, export, saving), with every intermediate held
/// until the native call that reads it has returned.
/// </summary>
/// <remarks>
/// A TorchSharp tensor that nothing references any more is freed by its finalizer, on the finalizer thread, whenever a
/// garbage collection finds it, and that can happen while a native call that was handed its handle is still running:
/// in <c>t.detach().clone()</c> the detached view is unreferenced once <c>clone</c> has read its handle. The result is a
/// read of freed memory and a crash of the process (seen in CI under load: a segfault in <c>torch::autograd::as_view</c>).
/// Inside a dispose scope the scope references every tensor it tracks, so only code outside one needs this.
/// </remarks>
internal static class TensorCopy
{
    /// <summary>A detached copy of <paramref name="tensor"/> (its own storage), owned by the caller and in no dispose scope.</summary>
    public static Tensor Detached(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        using Tensor detached = tensor.detach();
        return detached.clone().DetachFromDisposeScope();
    }

    /// <summary>
    /// A contiguous copy of the 2-D <paramref name="matrix"/> transposed (PyTorch's [out, in] as [in, out]), in the current
    /// dispose scope like any new tensor.
    /// </summary>
    public static Tensor Transposed(Tensor matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        using Tensor view = matrix.t();
        return view.contiguous();
    }
}
