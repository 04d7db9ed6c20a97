using System.Runtime.Intrinsics.X86;

namespace Bert.Sharp.Serving;

/// <summary>
/// What ONNX Runtime's CPU kernels (MLAS) do with uint8 × int8 products on this processor. With VNNI (AVX-VNNI, or
/// AVX512-VNNI beside AVX-512 BW/DQ/VL) they use the dot-product instruction; on other x86 CPUs they use
/// <c>vpmaddubsw</c>, which adds each pair of products in a saturating 16-bit integer, so an export with 8 bits on both
/// sides (<c>OnnxInt8Format.SignedWeights</c>, and every int8 export written before the format was recorded) has
/// its large products clipped. ARM and other processors do not saturate.
/// </summary>
internal static class Int8KernelSupport
{
    /// <summary>The metadata key of the quantization (Bert.Sharp's <c>OnnxMetadataKeys.Quantization</c>).</summary>
    public const string QuantizationKey = "quantization";

    /// <summary>The metadata key of the int8 format (Bert.Sharp's <c>OnnxMetadataKeys.Int8Format</c>).</summary>
    public const string Int8FormatKey = "int8_format";

    /// <summary>Whether this process's CPU sums uint8 × int8 pairs in saturating 16 bits (x86 without VNNI).</summary>
    public static bool SignedProductsSaturate { get; } = X86Base.IsSupported && !HasVnni();

    /// <summary>Whether this process's CPU is x86 with VNNI, where u8·s8 products take the dot-product kernels and u8·u8 ones do not.</summary>
    public static bool HasVnniKernels { get; } = X86Base.IsSupported && !SignedProductsSaturate;

    /// <summary>
    /// The int8 format of an exported model whose products saturate on a CPU without VNNI (<c>signed_weights</c>, or
    /// <c>signed_weights (not recorded)</c> for an int8 export older than the <c>int8_format</c> key), or <c>null</c>.
    /// </summary>
    public static string? SaturatingFormat(IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(QuantizationKey, out string? quantization) || quantization != "dynamic_int8")
        {
            return null;
        }

        return !metadata.TryGetValue(Int8FormatKey, out string? format) ? "signed_weights (not recorded: exported before Bert.Sharp wrote the format)"
            : format == "signed_weights" ? format
            : null;
    }

    private static bool HasVnni()
    {
        if (AvxVnni.IsSupported)
        {
            return true;
        }

        // MLAS takes its AVX512-VNNI kernel only with AVX-512 BW/DQ/VL; .NET reports those only where the OS saves the state.
        if (!Avx512BW.IsSupported || !Avx512DQ.IsSupported || !Avx512F.VL.IsSupported)
        {
            return false;
        }

        (_, _, int ecx, _) = X86Base.CpuId(7, 0);
        return (ecx & (1 << 11)) != 0; // CPUID.(EAX=7, ECX=0):ECX[11] = AVX512_VNNI
    }
}
