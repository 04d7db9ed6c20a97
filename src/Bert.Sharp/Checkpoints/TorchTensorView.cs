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
    /// <summary>The shape and placement, for messages.</summary>
    public string Describe() =>
        $"size [{string.Join(", ", Size)}], stride [{string.Join(", ", Stride)}], offset {Offset} of storage '{Storage.Key}' ({Storage.Elements} × {Storage.DType})";
}
