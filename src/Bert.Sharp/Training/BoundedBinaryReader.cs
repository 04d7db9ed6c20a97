namespace Bert.Sharp.Training;

/// <summary>
/// A <see cref="BinaryReader"/> over a seekable stream that refuses a byte count larger than what is left in the stream
/// before allocating it: TorchSharp's optimizer reader takes counts from the file, and a damaged <c>optimizer.bin</c>
/// made it allocate 2 GB for a 190 KB file (found by <c>ResumeFuzzTests</c>).
/// </summary>
internal sealed class BoundedBinaryReader(Stream input) : BinaryReader(input, System.Text.Encoding.UTF8, leaveOpen: true)
{
    /// <inheritdoc/>
    /// <exception cref="EndOfStreamException">The count is larger than the bytes left in the stream.</exception>
    public override byte[] ReadBytes(int count)
    {
        long left = BaseStream.Length - BaseStream.Position;
        if (count > left)
        {
            throw new EndOfStreamException($"a count of {count} bytes at offset {BaseStream.Position} exceeds the {left} bytes left in the file");
        }

        return base.ReadBytes(count);
    }
}
