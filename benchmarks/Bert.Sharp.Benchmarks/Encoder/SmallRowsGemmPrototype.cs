using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Bert.Sharp.Runtime;

namespace Bert.Sharp.Benchmarks.Encoder;

/// <summary>
/// A prototype, for <see cref="SmallRowsComparison"/> only: <c>y[M, N] = x[M, K] · B[K, N]</c> for few rows on AVX-512, the
/// tile of 8 rows × 48 columns (24 accumulators) that broadcasts one number of x against three vectors of B's row k.
/// B is read either as the transposed view of a column-major weight (rows of N numbers, as the serving layout stores it)
/// or from panels packed once (<see cref="Pack"/>: 48 columns × all of K, one after another), which the kernel streams in
/// order. Columns are split between LibTorch's OpenMP threads, 48 at a time. No bias, no tails: N a multiple of 48 and M of 8.
/// </summary>
internal static unsafe class SmallRowsGemmPrototype
{
    /// <summary>Columns per panel and per tile.</summary>
    public const int Strip = 48;

    /// <summary>Whether this CPU runs the prototype (AVX-512 F).</summary>
    public static bool IsSupported => Avx512F.IsSupported;

    /// <summary>B [K, N] row-major copied into panels [N / 48][K][48].</summary>
    public static float[] Pack(float* b, int k, int n)
    {
        var packed = GC.AllocateUninitializedArray<float>(k * n, pinned: true);
        for (int s = 0; s < n / Strip; s++)
        {
            for (int i = 0; i < k; i++)
            {
                new ReadOnlySpan<float>(b + (i * n) + (s * Strip), Strip).CopyTo(packed.AsSpan(((s * k) + i) * Strip, Strip));
            }
        }

        return packed;
    }

    /// <summary>y = x · B with B [K, N] row-major (<paramref name="packed"/> false) or packed by <see cref="Pack"/>.</summary>
    public static void Multiply(float* x, float* b, float* y, int m, int k, int n, bool packed)
    {
        nint xp = (nint)x, bp = (nint)b, yp = (nint)y;
        LibTorchThreadTeam.For(n / Strip, TorchSharp.torch.get_num_threads(), s =>
        {
            float* strip = packed ? (float*)bp + (s * k * Strip) : (float*)bp + (s * Strip);
            for (int r = 0; r < m; r += 8)
            {
                Tile((float*)xp + (r * k), strip, (float*)yp + (r * n) + (s * Strip), k, n, packed ? Strip : n);
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(float* x, float* b, float* y, int k, int n, int bStride)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default, a20 = default, a21 = default, a22 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a40 = default, a41 = default, a42 = default, a50 = default, a51 = default, a52 = default;
        Vector512<float> a60 = default, a61 = default, a62 = default, a70 = default, a71 = default, a72 = default;
        float* x1 = x + k, x2 = x + (2 * k), x3 = x + (3 * k), x4 = x + (4 * k), x5 = x + (5 * k), x6 = x + (6 * k), x7 = x + (7 * k);
        for (int i = 0; i < k; i++)
        {
            float* row = b + ((nint)i * bStride);
            Vector512<float> b0 = Vector512.Load(row), b1 = Vector512.Load(row + 16), b2 = Vector512.Load(row + 32);
            Vector512<float> v = Vector512.Create(x[i]);
            a00 = Avx512F.FusedMultiplyAdd(v, b0, a00); a01 = Avx512F.FusedMultiplyAdd(v, b1, a01); a02 = Avx512F.FusedMultiplyAdd(v, b2, a02);
            v = Vector512.Create(x1[i]);
            a10 = Avx512F.FusedMultiplyAdd(v, b0, a10); a11 = Avx512F.FusedMultiplyAdd(v, b1, a11); a12 = Avx512F.FusedMultiplyAdd(v, b2, a12);
            v = Vector512.Create(x2[i]);
            a20 = Avx512F.FusedMultiplyAdd(v, b0, a20); a21 = Avx512F.FusedMultiplyAdd(v, b1, a21); a22 = Avx512F.FusedMultiplyAdd(v, b2, a22);
            v = Vector512.Create(x3[i]);
            a30 = Avx512F.FusedMultiplyAdd(v, b0, a30); a31 = Avx512F.FusedMultiplyAdd(v, b1, a31); a32 = Avx512F.FusedMultiplyAdd(v, b2, a32);
            v = Vector512.Create(x4[i]);
            a40 = Avx512F.FusedMultiplyAdd(v, b0, a40); a41 = Avx512F.FusedMultiplyAdd(v, b1, a41); a42 = Avx512F.FusedMultiplyAdd(v, b2, a42);
            v = Vector512.Create(x5[i]);
            a50 = Avx512F.FusedMultiplyAdd(v, b0, a50); a51 = Avx512F.FusedMultiplyAdd(v, b1, a51); a52 = Avx512F.FusedMultiplyAdd(v, b2, a52);
            v = Vector512.Create(x6[i]);
            a60 = Avx512F.FusedMultiplyAdd(v, b0, a60); a61 = Avx512F.FusedMultiplyAdd(v, b1, a61); a62 = Avx512F.FusedMultiplyAdd(v, b2, a62);
            v = Vector512.Create(x7[i]);
            a70 = Avx512F.FusedMultiplyAdd(v, b0, a70); a71 = Avx512F.FusedMultiplyAdd(v, b1, a71); a72 = Avx512F.FusedMultiplyAdd(v, b2, a72);
        }

        Store(y, a00, a01, a02);
        Store(y + n, a10, a11, a12);
        Store(y + (2 * n), a20, a21, a22);
        Store(y + (3 * n), a30, a31, a32);
        Store(y + (4 * n), a40, a41, a42);
        Store(y + (5 * n), a50, a51, a52);
        Store(y + (6 * n), a60, a61, a62);
        Store(y + (7 * n), a70, a71, a72);
    }

    private static void Store(float* y, Vector512<float> a, Vector512<float> b, Vector512<float> c)
    {
        a.Store(y);
        b.Store(y + 16);
        c.Store(y + 32);
    }
}
