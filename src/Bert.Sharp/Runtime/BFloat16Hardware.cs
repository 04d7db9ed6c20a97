using System.Runtime.Intrinsics.X86;

namespace Bert.Sharp.Runtime;

/// <summary>
/// Whether this processor multiplies bf16 matrices faster than fp32 ones in LibTorch.
/// </summary>
/// <remarks>
/// LibTorch sends bf16 matrix products to oneDNN only on CPUs with AVX-512 (BW/VL/DQ); they beat fp32 only with native bf16
/// dot products (AVX512_BF16: Zen 4+, Cooper Lake, Sapphire Rapids+) or AMX-BF16. Everywhere else LibTorch uses a reference
/// kernel: measured on an AVX2 Zen 3, bf16 GEMMs ran 10–80× slower than fp32 and a whole BERT training step ~9× slower
/// (docs/performance.md). bf16 still computes correctly there, so it is run when asked for, with a warning.
/// </remarks>
internal static class BFloat16Hardware
{
    /// <summary>CPUID.(EAX=7, ECX=1):EAX bit 5 — AVX512_BF16 (with the AVX-512 state enabled by the OS).</summary>
    public static bool CpuHasAvx512BFloat16 =>
        X86Base.IsSupported && Avx512BW.IsSupported && (X86Base.CpuId(7, 1).Eax & (1 << 5)) != 0;

    /// <summary>CPUID.(EAX=7, ECX=0):EDX bit 22 — AMX-BF16.</summary>
    public static bool CpuHasAmxBFloat16 =>
        X86Base.IsSupported && (X86Base.CpuId(7, 0).Edx & (1 << 22)) != 0;

    /// <summary>Whether bf16 matrix products are expected to be faster than fp32 on this CPU.</summary>
    public static bool CpuHasFastBFloat16 => CpuHasAvx512BFloat16 || CpuHasAmxBFloat16;

    /// <summary>The relevant CPU features, for messages: <c>x64, avx512_bf16=no, amx_bf16=no, avx512=no, avx2=yes</c>.</summary>
    public static string DescribeCpu()
    {
        if (!X86Base.IsSupported)
        {
            return $"{System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture} (bf16 speed unknown)";
        }

        static string YesNo(bool value) => value ? "yes" : "no";
        return $"x64, avx512_bf16={YesNo(CpuHasAvx512BFloat16)}, amx_bf16={YesNo(CpuHasAmxBFloat16)}, avx512={YesNo(Avx512BW.IsSupported)}, avx2={YesNo(Avx2.IsSupported)}";
    }
}
