using static TorchSharp.torch;

namespace Bert.Sharp.Checkpoints;

/// <summary>
/// The check every weight file reader makes on each floating-point tensor it loads: a NaN or an infinity in a weight makes
/// every score NaN (or silently different), so it is refused at load, naming the file and tensor, instead of being served.
/// One vectorised pass per tensor (<c>isfinite().all()</c>), a small fraction of reading the bytes.
/// </summary>
internal static class FiniteWeights
{
    /// <summary>Refuses <paramref name="tensor"/> when it is floating-point and holds a NaN or an infinity.</summary>
    /// <param name="tensor">A tensor just read from <paramref name="path"/>.</param>
    /// <param name="path">The file, for the message.</param>
    /// <param name="name">The tensor's key in the file, for the message.</param>
    /// <exception cref="InvalidDataException">The tensor holds a non-finite value.</exception>
    public static void Require(Tensor tensor, string path, string name)
    {
        if (!SafeTensorsDType.IsFloatingPoint(tensor.dtype) || tensor.numel() == 0)
        {
            return;
        }

        using Tensor finite = tensor.isfinite();
        using Tensor all = finite.all();
        if (Runtime.HostRead.Item<bool>(all))
        {
            return;
        }

        using Tensor isNan = tensor.isnan();
        using Tensor notFinite = finite.logical_not();
        using Tensor nan = isNan.sum();
        using Tensor bad = notFinite.sum();
        long nans = Runtime.HostRead.Item<long>(nan);
        long total = Runtime.HostRead.Item<long>(bad);
        throw new InvalidDataException(
            $"'{path}': tensor '{name}' holds {total} non-finite value(s) of {tensor.numel()} ({nans} NaN, {total - nans} infinite); a weight must be a finite number (the file was saved from a diverged training or is corrupt).");
    }
}
