using static TorchSharp.torch;

namespace Bert.Sharp.Runtime;

/// <summary>
/// Calls a TorchSharp custom autograd function (<c>autograd.SingleTensorFunction&lt;T&gt;.apply</c>) inside a dispose
/// scope of its own and hands only the output to the caller's scope.
/// </summary>
/// <remarks>
/// Why: TorchSharp 0.107's <c>apply</c> also creates, for every output, an <c>empty_like</c> tensor that its graph node
/// keeps (to build zero gradients for outputs the loss does not reach) and disposes when the node is deleted — which
/// happens on whatever thread drops the graph's last reference (a finalizer, another scope). Left in the caller's dispose
/// scope, that tensor would be disposed by two owners, possibly on two threads at once: a double free of a native
/// tensor. Here it is disposed at once, on this thread, by the inner scope (a later dispose by the node is then a no-op),
/// and its memory (the size of the output) is not held for the whole step. The functions that use this set
/// <c>set_materialize_grads(false)</c>, so the node never reads that tensor.
/// </remarks>
internal static class AutogradFunctionScope
{
    /// <summary>Runs <paramref name="apply"/> in its own dispose scope and moves its result to the caller's.</summary>
    public static Tensor Apply(Func<Tensor> apply)
    {
        ArgumentNullException.ThrowIfNull(apply);
        using var scope = NewDisposeScope();
        return apply().MoveToOuterDisposeScope();
    }
}
