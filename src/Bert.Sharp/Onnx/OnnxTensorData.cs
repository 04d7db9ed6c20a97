using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Bert.Sharp.Onnx.Proto;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Onnx;

/// <summary>
/// Reads the values of an ONNX <see cref="TensorProto"/> (an initializer or a constant) as float32 or int64, after checking
/// its declared shape against the data actually present: a hostile file cannot make the importer allocate more than it
/// holds, nor read past what it holds.
/// </summary>
internal static class OnnxTensorData
{
    /// <summary>ONNX <c>TensorProto.DataType</c> values the importer reads.</summary>
    public const int Float = (int)TensorProto.Types.DataType.Float;

    /// <inheritdoc cref="Float"/>
    public const int Int32 = (int)TensorProto.Types.DataType.Int32;

    /// <inheritdoc cref="Float"/>
    public const int Int64 = (int)TensorProto.Types.DataType.Int64;

    /// <inheritdoc cref="Float"/>
    public const int Int8 = (int)TensorProto.Types.DataType.Int8;

    /// <inheritdoc cref="Float"/>
    public const int Float16 = (int)TensorProto.Types.DataType.Float16;

    /// <inheritdoc cref="Float"/>
    public const int Double = (int)TensorProto.Types.DataType.Double;

    /// <inheritdoc cref="Float"/>
    public const int BFloat16 = (int)TensorProto.Types.DataType.Bfloat16;

    /// <summary>The shape as text, <c>[384, 1536]</c>.</summary>
    public static string ShapeText(this TensorProto tensor) => "[" + string.Join(", ", tensor.Dims) + "]";

    /// <summary>The number of elements, checked: no negative dimension, no overflow, at most <see cref="int.MaxValue"/>.</summary>
    /// <exception cref="InvalidDataException">The shape is impossible; the message names the file and tensor.</exception>
    public static long ElementCount(this TensorProto tensor, string source)
    {
        long count = 1;
        foreach (long dim in tensor.Dims)
        {
            if (dim < 0)
            {
                throw new InvalidDataException($"'{source}': initializer '{tensor.Name}' has a negative dimension in its shape {tensor.ShapeText()}.");
            }

            if (dim != 0 && count > int.MaxValue / dim)
            {
                throw new InvalidDataException($"'{source}': initializer '{tensor.Name}' declares shape {tensor.ShapeText()}, more than {int.MaxValue} elements.");
            }

            count *= dim;
        }

        return count;
    }

    // Reads one little-endian element at the start of the bytes as float32.
    private delegate float ElementReader(ReadOnlySpan<byte> bytes);

    // Converts every element (each width bytes) of raw into result.
    private static void ReadEach(ReadOnlySpan<byte> raw, float[] result, int width, ElementReader read)
    {
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = read(raw[(i * width)..]);
        }
    }

    /// <summary>The values as float32 (FLOAT, FLOAT16, BFLOAT16, DOUBLE, INT32, INT64, INT8 accepted).</summary>
    /// <exception cref="InvalidDataException">External data, an unsupported type, or data that does not fit the shape.</exception>
    public static float[] ToFloats(this TensorProto tensor, string source)
    {
        int count = CheckedCount(tensor, source);
        if (!tensor.RawData.IsEmpty || UsesRawData(tensor, count))
        {
            ReadOnlySpan<byte> raw = RawBytes(tensor, source, count);
            var result = new float[count];
            switch (tensor.DataType)
            {
                case Float:
                    MemoryMarshal.Cast<byte, float>(raw).CopyTo(result);
                    break;
                case Float16:
                    ReadEach(raw, result, 2, static b => (float)BinaryPrimitives.ReadHalfLittleEndian(b));
                    break;
                case BFloat16:
                    ReadEach(raw, result, 2, static b => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b) << 16));
                    break;
                case Double:
                    ReadEach(raw, result, 8, static b => (float)BinaryPrimitives.ReadDoubleLittleEndian(b));
                    break;
                case Int32:
                    ReadEach(raw, result, 4, static b => BinaryPrimitives.ReadInt32LittleEndian(b));
                    break;
                case Int64:
                    ReadEach(raw, result, 8, static b => BinaryPrimitives.ReadInt64LittleEndian(b));
                    break;
                case Int8:
                    ReadEach(raw, result, 1, static b => (sbyte)b[0]);
                    break;
            }

            return result;
        }

        return tensor.DataType switch
        {
            Float => Typed(tensor, source, count, tensor.FloatData, x => x),
            Double => Typed(tensor, source, count, tensor.DoubleData, x => (float)x),
            Int64 => Typed(tensor, source, count, tensor.Int64Data, x => (float)x),
            Int32 or Int8 => Typed(tensor, source, count, tensor.Int32Data, x => (float)x),
            Float16 => Typed(tensor, source, count, tensor.Int32Data, x => (float)BitConverter.UInt16BitsToHalf((ushort)x)),
            BFloat16 => Typed(tensor, source, count, tensor.Int32Data, x => BitConverter.Int32BitsToSingle(x << 16)),
            _ => throw Unsupported(tensor, source),
        };
    }

    /// <summary>The values as int64 (INT64 or INT32 exactly; other types through float32).</summary>
    public static long[] ToInt64s(this TensorProto tensor, string source)
    {
        if (tensor.DataType is not (Int64 or Int32))
        {
            return [.. tensor.ToFloats(source).Select(x => (long)x)];
        }

        int count = CheckedCount(tensor, source);
        if (!tensor.RawData.IsEmpty || UsesRawData(tensor, count))
        {
            ReadOnlySpan<byte> raw = RawBytes(tensor, source, count);
            var result = new long[count];
            for (int i = 0; i < count; i++)
            {
                result[i] = tensor.DataType == Int64 ? BinaryPrimitives.ReadInt64LittleEndian(raw[(i * 8)..]) : BinaryPrimitives.ReadInt32LittleEndian(raw[(i * 4)..]);
            }

            return result;
        }

        return tensor.DataType == Int64
            ? Typed(tensor, source, count, tensor.Int64Data, x => x)
            : Typed(tensor, source, count, tensor.Int32Data, x => (long)x);
    }

    /// <summary>A float32 CPU tensor of the values, in the proto's shape.</summary>
    public static Tensor ToTensor(this TensorProto tensor, string source)
    {
        int count = CheckedCount(tensor, source);
        long[] shape = [.. tensor.Dims];
        if (tensor.DataType == Float && !tensor.RawData.IsEmpty)
        {
            ReadOnlySpan<byte> raw = RawBytes(tensor, source, count);
            Tensor result = empty(shape, ScalarType.Float32, CPU);
            raw.CopyTo(result.bytes);
            return result;
        }

        return torch.tensor(tensor.ToFloats(source), shape, ScalarType.Float32);
    }

    // The element count after the checks every reader needs first: data inside the file, a sane shape.
    private static int CheckedCount(TensorProto tensor, string source)
    {
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External || tensor.ExternalData.Count > 0)
        {
            throw new InvalidDataException($"'{source}': initializer '{tensor.Name}' is stored in an external data file, which the importer does not read; re-export with the weights inside the .onnx file.");
        }

        return (int)tensor.ElementCount(source);
    }

    // A tensor of zero elements has empty raw_data and no typed values alike.
    private static bool UsesRawData(TensorProto tensor, int count) =>
        count > 0 && tensor.FloatData.Count == 0 && tensor.Int32Data.Count == 0 && tensor.Int64Data.Count == 0 && tensor.DoubleData.Count == 0;

    private static ReadOnlySpan<byte> RawBytes(TensorProto tensor, string source, int count)
    {
        long expected = (long)count * ElementSize(tensor, source);
        if (tensor.RawData.Length != expected)
        {
            throw new InvalidDataException($"'{source}': initializer '{tensor.Name}' has shape {tensor.ShapeText()} but {tensor.RawData.Length} bytes of raw_data ({expected} expected).");
        }

        return tensor.RawData.Span;
    }

    private static TOut[] Typed<TIn, TOut>(TensorProto tensor, string source, int count, IReadOnlyList<TIn> values, Func<TIn, TOut> convert)
    {
        if (values.Count != count)
        {
            throw new InvalidDataException($"'{source}': initializer '{tensor.Name}' has shape {tensor.ShapeText()} but {values.Count} values.");
        }

        var result = new TOut[count];
        for (int i = 0; i < count; i++)
        {
            result[i] = convert(values[i]);
        }

        return result;
    }

    private static int ElementSize(TensorProto tensor, string source) => tensor.DataType switch
    {
        Float or Int32 => 4,
        Float16 or BFloat16 => 2,
        Double or Int64 => 8,
        Int8 => 1,
        _ => throw Unsupported(tensor, source),
    };

    private static InvalidDataException Unsupported(TensorProto tensor, string source) =>
        new($"'{source}': initializer '{tensor.Name}' has ONNX data type {tensor.DataType}, which the importer does not read (FLOAT, FLOAT16, BFLOAT16, DOUBLE, INT8, INT32, INT64 are supported).");
}
