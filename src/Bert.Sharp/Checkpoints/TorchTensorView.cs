using static TorchSharp.torch;

namespace Bert.Sharp.Checkpoints;

/// <summary>
/// A storage of a <c>torch.save</c> zip (<c>&lt;archive&gt;/data/&lt;key&gt;</c>) as the pickle refers to it: its key,
/// element type and element count, the count checked against the zip entry's real length before it is trusted.
/// </summary>
internal sealed record TorchStorageRef(string Key, ScalarType DType, long Elements);

/// <summary>
/// A tensor of the pickle before it is made: a strided view (offset, size, stride) of a storage. The unpickler only
/// describes tensors; <see cref="TorchPickleCheckpoint"/> checks every view against its storage and the file's element
/// budget, and allocates nothing until all of them passed.
/// </summary>
internal sealed record TorchTensorView(TorchStorageRef Storage, long Offset, long[] Size, long[] Stride, long Elements)
{
    /// <summary>
    /// The view of <paramref name="storage"/> at <paramref name="offset"/> with <paramref name="size"/> and
    /// <paramref name="stride"/> (all non-negative, of equal rank), after checking that it holds no more elements than its
    /// storage, that every element it touches lies inside the storage, and that an empty view's strides do not overflow.
    /// </summary>
    /// <param name="storage">The storage viewed.</param>
    /// <param name="offset">First element, in elements of the storage.</param>
    /// <param name="size">Size of each dimension.</param>
    /// <param name="stride">Step of each dimension, in elements.</param>
    /// <param name="invalid">Makes the exception for a message (it names the file).</param>
    public static TorchTensorView Create(TorchStorageRef storage, long offset, long[] size, long[] stride, Func<string, Exception> invalid)
    {
        var view = new TorchTensorView(storage, offset, size, stride, CountElements(size, stride, offset, storage, invalid));
        CheckExtent(view, invalid);
        return view;
    }

    /// <summary>The shape and placement, for messages.</summary>
    public string Describe() =>
        $"size [{string.Join(", ", Size)}], stride [{string.Join(", ", Stride)}], offset {Offset} of storage '{Storage.Key}' ({Storage.Elements} × {Storage.DType})";

    private static long CountElements(long[] size, long[] stride, long offset, TorchStorageRef storage, Func<string, Exception> invalid)
    {
        if (size.Contains(0))
        {
            // Empty, but making it contiguous computes strides as products of the other sizes: they must not overflow.
            long strides = 1;
            foreach (long dim in size)
            {
                if (dim > 1 && strides > long.MaxValue / dim)
                {
                    throw invalid($"an empty tensor has size [{string.Join(", ", size)}], whose strides overflow");
                }

                strides *= Math.Max(dim, 1);
            }

            return 0;
        }

        long elements = 1;
        foreach (long dim in size)
        {
            if (elements > storage.Elements / dim)
            {
                // More elements than the storage holds: a stride-0 or overlapping view that would expand a few bytes of
                // the file into gigabytes (a 541-byte file once asked for 10^9 elements).
                throw invalid($"a tensor of size [{string.Join(", ", size)}] and stride [{string.Join(", ", stride)}] at offset {offset} has more elements than its storage '{storage.Key}' holds ({storage.Elements}); overlapping views beyond the storage are refused");
            }

            elements *= dim;
        }

        return elements;
    }

    private static void CheckExtent(TorchTensorView view, Func<string, Exception> invalid)
    {
        if (view.Elements == 0)
        {
            if (view.Offset > view.Storage.Elements)
            {
                throw invalid($"an empty tensor starts at offset {view.Offset}, past the end of storage '{view.Storage.Key}' ({view.Storage.Elements} elements)");
            }

            return;
        }

        // The last element the view touches, saturating instead of overflowing.
        long last = view.Offset;
        for (int i = 0; i < view.Size.Length && last != long.MaxValue; i++)
        {
            long step = view.Stride[i];
            long count = view.Size[i] - 1;
            last = step != 0 && count > (long.MaxValue - last) / step ? long.MaxValue : last + (count * step);
        }

        if (last >= view.Storage.Elements)
        {
            string reach = last == long.MaxValue ? "past the end" : $"element {last}";
            throw invalid($"a tensor of {view.Describe()} reaches {reach} of a storage of {view.Storage.Elements}");
        }
    }
}
