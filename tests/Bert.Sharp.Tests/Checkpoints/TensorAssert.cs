using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Checkpoints;

internal static class TensorAssert
{
    /// <summary>Same dtype, shape and bytes.</summary>
    public static bool BitEqual(Tensor a, Tensor b)
    {
        if (a.dtype != b.dtype || !a.shape.SequenceEqual(b.shape))
        {
            return false;
        }

        using Tensor ca = a.detach().cpu().contiguous();
        using Tensor cb = b.detach().cpu().contiguous();
        return ca.bytes.SequenceEqual(cb.bytes);
    }
}
