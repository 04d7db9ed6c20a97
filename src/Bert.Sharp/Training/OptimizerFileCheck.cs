using static TorchSharp.torch;

namespace Bert.Sharp.Training;

/// <summary>
/// Walks an <c>optimizer.bin</c> in TorchSharp's AdamW format before TorchSharp reads it, and refuses it unless every
/// count, dtype and shape is the one the run's optimizer holds and every byte count fits the file. TorchSharp's reader
/// allocates from counts in the file before it compares them (a damaged tensor rank made it allocate a 2 GiB shape
/// array for a 190 KB file: <c>ResumeFuzzTests</c>, seed 24007059), so nothing of the file is trusted until this
/// pass has checked it against what the model says it must be.
/// </summary>
/// <remarks>
/// Layout (TorchSharp 0.107 <c>OptimizerHelper.save_state_dict</c> with AdamW): the optimizer's type name (a
/// length-prefixed string); the group count and the state count (LEB128); per group the initial and current learning
/// rate, beta1, beta2, epsilon, weight decay (doubles), amsgrad and maximize (booleans); per parameter the step
/// (int64), the first and second moments (tensors), a boolean and, when it is true, the AMSGrad maximum (a tensor). A
/// tensor is its dtype, rank and dimensions (LEB128) followed by its raw bytes.
/// </remarks>
internal static class OptimizerFileCheck
{
    private const int GroupOptionBytes = (6 * sizeof(double)) + (2 * sizeof(bool));
    private const int MaxTypeNameBytes = 256;

    /// <summary>Checks the stream from its current position and puts the position back where it was.</summary>
    /// <param name="stream">A seekable stream positioned at the start of the optimizer state.</param>
    /// <param name="expectedType">The optimizer's type name, as TorchSharp writes it.</param>
    /// <param name="groupCount">The number of parameter groups the run's optimizer has.</param>
    /// <param name="moments">Per parameter state, in order: the dtype, shape and element size its moments must have.</param>
    /// <param name="source">The checkpoint folder, for messages.</param>
    /// <exception cref="InvalidDataException">The file does not have this optimizer's layout.</exception>
    public static void Check(Stream stream, string expectedType, int groupCount, IReadOnlyList<(ScalarType Type, long[] Shape, long ElementSize)> moments, string source)
    {
        long start = stream.Position;
        var reader = new Cursor(stream, source);
        long nameBytes = reader.Leb128("the optimizer type name's length");
        if (nameBytes > MaxTypeNameBytes)
        {
            throw reader.Fail($"the optimizer type name is {nameBytes} bytes long");
        }

        string name = System.Text.Encoding.UTF8.GetString(reader.Bytes((int)nameBytes, "the optimizer type name"));
        if (!string.Equals(name, expectedType, StringComparison.Ordinal))
        {
            throw reader.Fail($"the state is of optimizer '{name}', not '{expectedType}'");
        }

        reader.Expect(reader.Leb128("the group count"), groupCount, "parameter groups");
        reader.Expect(reader.Leb128("the state count"), moments.Count, "parameter states");
        reader.Skip((long)groupCount * GroupOptionBytes, "the group options");
        for (int i = 0; i < moments.Count; i++)
        {
            reader.Skip(sizeof(long), "a step count");
            reader.Tensor(moments[i], i, "first moment");
            reader.Tensor(moments[i], i, "second moment");
            if (reader.Bytes(1, "the AMSGrad flag")[0] != 0)
            {
                reader.Tensor(moments[i], i, "AMSGrad maximum");
            }
        }

        stream.Position = start;
    }

    // Reads only what the layout says, each count bounded by the bytes left in the file before anything is allocated.
    private sealed class Cursor(Stream stream, string source)
    {
        private const int MaxRank = 8;

        public long Leb128(string what)
        {
            long value = 0;
            for (int shift = 0; shift < 63; shift += 7)
            {
                int b = stream.ReadByte();
                if (b < 0)
                {
                    throw Fail($"the file ends inside {what}");
                }

                value |= (long)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return value;
                }
            }

            throw Fail($"{what} is not a valid count");
        }

        public byte[] Bytes(int count, string what)
        {
            EnsureLeft(count, what);
            byte[] bytes = new byte[count];
            stream.ReadExactly(bytes);
            return bytes;
        }

        public void Skip(long count, string what)
        {
            EnsureLeft(count, what);
            stream.Position += count;
        }

        public void Expect(long found, long expected, string what)
        {
            if (found != expected)
            {
                throw Fail($"the file has {found} {what}, this run's optimizer {expected}");
            }
        }

        public void Tensor((ScalarType Type, long[] Shape, long ElementSize) expected, int index, string what)
        {
            string label = $"the {what} of parameter state {index}";
            long type = Leb128($"{label}'s dtype");
            if (type != (long)expected.Type)
            {
                throw Fail($"{label} has dtype code {type}, expected {expected.Type}");
            }

            long rank = Leb128($"{label}'s rank");
            if (rank != expected.Shape.Length || rank > MaxRank)
            {
                throw Fail($"{label} has rank {rank}, expected {expected.Shape.Length}");
            }

            long elements = 1;
            for (int d = 0; d < rank; d++)
            {
                long size = Leb128($"{label}'s dimension {d}");
                if (size != expected.Shape[d])
                {
                    throw Fail($"{label} has dimension {d} of size {size}, expected [{string.Join(", ", expected.Shape)}]");
                }

                elements *= size;
            }

            Skip(elements * expected.ElementSize, $"{label}'s data");
        }

        public InvalidDataException Fail(string reason) =>
            new($"Checkpoint '{source}': optimizer.bin is not this run's optimizer state at byte {stream.Position}: {reason}.");

        private void EnsureLeft(long count, string what)
        {
            long left = stream.Length - stream.Position;
            if (count < 0 || count > left)
            {
                throw Fail($"{what} needs {count} bytes, {left} are left");
            }
        }
    }
}
