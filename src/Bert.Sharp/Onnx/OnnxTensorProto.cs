using System.Buffers.Binary;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Bert.Sharp.Onnx;

/// <summary>
/// An ONNX <c>TensorProto</c> (an initializer or a constant): name, element type, dims, and its data, either as a slice
/// of the file's bytes (<c>raw_data</c>) or as decoded typed values (<c>float_data</c>, <c>int64_data</c>, ...).
/// </summary>
internal sealed class OnnxTensorProto
{
    // TensorProto.DataType values used by BERT exports.
    public const int Float = 1;
    public const int Int32 = 6;
    public const int Int64 = 7;
    public const int Float16 = 10;
    public const int Double = 11;
    public const int BFloat16 = 16;

    public string Name { get; set; } = string.Empty;

    public int DataType { get; set; }

    public List<long> Dims { get; } = [];

    /// <summary><c>raw_data</c> as a slice of the file; empty when the values are typed fields.</summary>
    public ReadOnlyMemory<byte> RawData { get; set; }

    public bool HasRawData { get; set; }

    public List<float> FloatData { get; } = [];

    public List<long> Int64Data { get; } = [];

    public List<int> Int32Data { get; } = [];

    public List<double> DoubleData { get; } = [];

    /// <summary>Whether the data lives in an external file (<c>data_location = EXTERNAL</c>), which this importer does not read.</summary>
    public bool IsExternal { get; set; }

    public long ElementCount => Dims.Aggregate(1L, (a, b) => a * b);

    public string ShapeText => "[" + string.Join(", ", Dims) + "]";

    /// <summary>The values as float32 (FLOAT, FLOAT16, BFLOAT16, DOUBLE, INT32, INT64 accepted).</summary>
    public float[] ToFloats(string source)
    {
        long count = ElementCount;
        var result = new float[count];
        if (HasRawData)
        {
            ReadOnlySpan<byte> raw = RawData.Span;
            int size = ElementSize(source);
            if (raw.Length != count * size)
            {
                throw new InvalidDataException($"'{source}': initializer '{Name}' has shape {ShapeText} but {raw.Length} bytes of raw_data ({count * size} expected).");
            }

            switch (DataType)
            {
                case Float:
                    MemoryMarshal.Cast<byte, float>(raw).CopyTo(result);
                    break;
                case Float16:
                    for (int i = 0; i < count; i++)
                    {
                        result[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(raw[(i * 2)..]);
                    }

                    break;
                case BFloat16:
                    for (int i = 0; i < count; i++)
                    {
                        result[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(raw[(i * 2)..]) << 16);
                    }

                    break;
                case Double:
                    for (int i = 0; i < count; i++)
                    {
                        result[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(raw[(i * 8)..]);
                    }

                    break;
                case Int32:
                    for (int i = 0; i < count; i++)
                    {
                        result[i] = BinaryPrimitives.ReadInt32LittleEndian(raw[(i * 4)..]);
                    }

                    break;
                case Int64:
                    for (int i = 0; i < count; i++)
                    {
                        result[i] = BinaryPrimitives.ReadInt64LittleEndian(raw[(i * 8)..]);
                    }

                    break;
            }

            return result;
        }

        List<double> typed = DataType switch
        {
            Float => FloatData.Select(x => (double)x).ToList(),
            Double => DoubleData.ToList(),
            Int64 => Int64Data.Select(x => (double)x).ToList(),
            Int32 or Float16 or BFloat16 => DataType == Int32 ? Int32Data.Select(x => (double)x).ToList() : Int32Data.Select(x => (double)HalfBits(x, DataType)).ToList(),
            _ => throw Unsupported(source),
        };
        if (typed.Count != count)
        {
            throw new InvalidDataException($"'{source}': initializer '{Name}' has shape {ShapeText} but {typed.Count} values.");
        }

        for (int i = 0; i < count; i++)
        {
            result[i] = (float)typed[i];
        }

        return result;
    }

    /// <summary>The values as int64 (INT64 or INT32).</summary>
    public long[] ToInt64s(string source)
    {
        if (DataType is not (Int64 or Int32))
        {
            return ToFloats(source).Select(x => (long)x).ToArray();
        }

        if (!HasRawData)
        {
            return DataType == Int64 ? Int64Data.ToArray() : Int32Data.Select(x => (long)x).ToArray();
        }

        ReadOnlySpan<byte> raw = RawData.Span;
        int size = DataType == Int64 ? 8 : 4;
        if (raw.Length != ElementCount * size)
        {
            throw new InvalidDataException($"'{source}': constant '{Name}' has shape {ShapeText} but {raw.Length} bytes of raw_data.");
        }

        var result = new long[ElementCount];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = size == 8 ? BinaryPrimitives.ReadInt64LittleEndian(raw[(i * 8)..]) : BinaryPrimitives.ReadInt32LittleEndian(raw[(i * 4)..]);
        }

        return result;
    }

    /// <summary>A float32 CPU tensor of the values, in the proto's shape.</summary>
    public Tensor ToTensor(string source)
    {
        if (IsExternal)
        {
            throw new InvalidDataException($"'{source}': initializer '{Name}' is stored in an external data file, which the importer does not read; re-export with the weights inside the .onnx file.");
        }

        if (DataType == Float && HasRawData)
        {
            ReadOnlySpan<byte> raw = RawData.Span;
            if (raw.Length != ElementCount * 4)
            {
                throw new InvalidDataException($"'{source}': initializer '{Name}' has shape {ShapeText} but {raw.Length} bytes of raw_data ({ElementCount * 4} expected).");
            }

            Tensor tensor = empty(Dims.ToArray(), ScalarType.Float32, CPU);
            raw.CopyTo(tensor.bytes);
            return tensor;
        }

        return tensor(ToFloats(source), Dims.ToArray(), ScalarType.Float32);
    }

    private int ElementSize(string source) => DataType switch
    {
        Float or Int32 => 4,
        Float16 or BFloat16 => 2,
        Double or Int64 => 8,
        _ => throw Unsupported(source),
    };

    private InvalidDataException Unsupported(string source) =>
        new($"'{source}': initializer '{Name}' has ONNX data type {DataType}, which the importer does not read (FLOAT, FLOAT16, BFLOAT16, DOUBLE, INT32, INT64 are supported).");

    // FLOAT16 and BFLOAT16 typed values are stored as their 16 bits in int32_data.
    private static float HalfBits(int bits, int dataType) => dataType == Float16
        ? (float)BitConverter.UInt16BitsToHalf((ushort)bits)
        : BitConverter.Int32BitsToSingle(bits << 16);
}
