using static TorchSharp.torch;

namespace Bert.Sharp.Checkpoints;

/// <summary>The safetensors dtype names and their TorchSharp scalar types and element sizes.</summary>
internal static class SafeTensorsDType
{
    private static readonly Dictionary<string, ScalarType> ByName = new(StringComparer.Ordinal)
    {
        ["F64"] = ScalarType.Float64,
        ["F32"] = ScalarType.Float32,
        ["F16"] = ScalarType.Float16,
        ["BF16"] = ScalarType.BFloat16,
        ["I64"] = ScalarType.Int64,
        ["I32"] = ScalarType.Int32,
        ["I16"] = ScalarType.Int16,
        ["I8"] = ScalarType.Int8,
        ["U8"] = ScalarType.Byte,
        ["BOOL"] = ScalarType.Bool,
    };

    /// <summary>Names this reader understands, for error messages.</summary>
    public static IEnumerable<string> Names => ByName.Keys;

    public static bool TryParse(string name, out ScalarType type) => ByName.TryGetValue(name, out type);

    public static string NameOf(ScalarType type) => type switch
    {
        ScalarType.Float64 => "F64",
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"Tensors of dtype {type} cannot be stored in safetensors by this library."),
    };

    public static int SizeOf(ScalarType type) => type switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        ScalarType.Int8 or ScalarType.Byte or ScalarType.Bool => 1,
        _ => throw new NotSupportedException($"dtype {type} is not supported."),
    };

    public static bool IsFloatingPoint(ScalarType type) =>
        type is ScalarType.Float64 or ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16;
}
