using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Bert.Sharp.Runtime;

/// <summary>
/// <c>y = x · Wᵀ + b</c> for inputs of few rows (one short text's tokens) against a weight packed once into panels
/// (<see cref="Pack"/>): 48 output columns by all input features, one panel after another, so the kernel reads the weight in
/// order. LibTorch's <c>linear</c> reads the weight where it lies (rows of the transposed weight kilobytes apart) and was
/// the limit for one short text: MiniLM's 36 products at 16 rows took 3.9 ms through it against 2.2–2.4 ms on panels with
/// this kernel's tile (AMD EPYC Zen 4, docs/performance.md, "Few-row products on packed panels").
/// </summary>
/// <remarks>
/// AVX-512 or AVX2 with FMA (<see cref="IsSupported"/>); elsewhere callers keep LibTorch. With AVX-512 a tile is 8 rows ×
/// 48 columns: 24 vector accumulators, one number of x broadcast against three vectors of the panel's row; with AVX2 it is
/// 2 rows × 48 columns in 256-bit vectors (12 accumulators, within AVX2's 16 registers). A last tile of fewer rows repeats
/// its last row in the missing ones and stores only the real ones. Panels are split between LibTorch's
/// OpenMP threads (<see cref="LibTorchThreadTeam"/>). Each output is the sum over the inputs in order, fused multiply-adds
/// in float32 — the same terms as LibTorch's, summed in another order (differences of float rounding).
/// <c>BERT_SHARP_SMALL_ROWS=0</c> in the environment switches it off.
/// </remarks>
internal static unsafe class SmallRowsGemm
{
    /// <summary>Output columns per panel and per tile.</summary>
    public const int PanelWidth = 48;

    /// <summary>
    /// The most rows the kernel is used for. The AVX-512 tile was faster than LibTorch up to 128 rows (1.3× there); the
    /// AVX2 tile, timed on an AVX-512 CPU with 256-bit vectors, 1.3× faster at 16 rows, even at 32 and slower at 64 and
    /// 128, so 24 (docs/performance.md, "Few-row products"). Beyond, LibTorch's GEMM is the tuned one.
    /// </summary>
    public static int MaxRows { get; } = Avx512F.IsSupported ? 128 : 24;

    /// <summary>Set to 0 before the first use to keep LibTorch's products.</summary>
    internal const string OptOutVariable = "BERT_SHARP_SMALL_ROWS";

    private const int TileRows = 8;

    /// <summary>Whether this CPU and process run the kernel (AVX-512, or AVX2 with FMA).</summary>
    public static bool IsSupported { get; } = (Avx512F.IsSupported || HasAvx2Fma) && Environment.GetEnvironmentVariable(OptOutVariable) is not ("0" or "false" or "False");

    private static bool HasAvx2Fma => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>
    /// The weight <paramref name="weight"/> ([out, in], any strides) as panels: [⌈out / 48⌉][in][48], the last panel's
    /// missing columns zero. Pinned, so the kernel reads it by address.
    /// </summary>
    public static float[] Pack(float* weight, long rowStride, long columnStride, int outFeatures, int inFeatures)
    {
        int panels = (outFeatures + PanelWidth - 1) / PanelWidth;
        float[] packed = GC.AllocateArray<float>(panels * inFeatures * PanelWidth, pinned: true);
        for (int p = 0; p < panels; p++)
        {
            int columns = Math.Min(PanelWidth, outFeatures - (p * PanelWidth));
            for (int k = 0; k < inFeatures; k++)
            {
                Span<float> row = packed.AsSpan(((p * inFeatures) + k) * PanelWidth, PanelWidth);
                for (int c = 0; c < columns; c++)
                {
                    row[c] = weight[((p * PanelWidth) + c) * rowStride + (k * columnStride)];
                }
            }
        }

        return packed;
    }

    /// <summary>
    /// y[rows, out] = x[rows, in] · Wᵀ (+ <paramref name="bias"/>[out]) with W packed by <see cref="Pack"/>; x and y
    /// contiguous, y not overlapping x. <paramref name="wideVectors"/> picks the 512-bit tile (8 rows) or the 256-bit one
    /// (2 rows, for AVX2 CPUs); <c>null</c> takes the widest this CPU has.
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">The CPU lacks the instructions of the tile asked for.</exception>
    public static void Multiply(float* x, float[] panels, float* bias, float* y, int rows, int inFeatures, int outFeatures, int threads, bool? wideVectors = null)
    {
        bool wide = wideVectors ?? Avx512F.IsSupported;
        if (wide ? !Avx512F.IsSupported : !HasAvx2Fma)
        {
            throw new PlatformNotSupportedException($"This CPU has no {(wide ? "AVX-512" : "AVX2 with FMA")} for the few-row kernel.");
        }

        int count = (outFeatures + PanelWidth - 1) / PanelWidth;
        nint xp = (nint)x, biasp = (nint)bias, yp = (nint)y;
        fixed (float* pinned = panels)
        {
            nint panelp = (nint)pinned; // the array is pinned for its lifetime; fixed only gives its address
            LibTorchThreadTeam.For(count, threads, p => MultiplyPanel((float*)xp, (float*)panelp + (p * inFeatures * PanelWidth), (float*)biasp, (float*)yp, rows, inFeatures, outFeatures, (int)p * PanelWidth, wide));
        }
    }

    private static void MultiplyPanel(float* x, float* panel, float* bias, float* y, int rows, int k, int n, int column, bool wide)
    {
        int columns = Math.Min(PanelWidth, n - column);
        int tileHeight = wide ? TileRows : 2;
        float* tile = stackalloc float[TileRows * PanelWidth];
        for (int r = 0; r < rows; r += tileHeight)
        {
            // The last tile may have fewer rows: its missing rows repeat the last one (read, never stored).
            int tileRows = Math.Min(tileHeight, rows - r);
            if (wide)
            {
                Tile8(x + ((nint)r * k), tileRows, panel, tile, k);
            }
            else
            {
                Tile2(x + ((nint)r * k), tileRows, panel, tile, k);
            }

            for (int i = 0; i < tileRows; i++)
            {
                float* source = tile + (i * PanelWidth), target = y + ((nint)(r + i) * n) + column;
                if (columns == PanelWidth)
                {
                    // 256-bit adds: accelerated on AVX2 and AVX-512 CPUs alike.
                    for (int c = 0; c < PanelWidth; c += 8)
                    {
                        (Vector256.Load(source + c) + (bias == null ? default : Vector256.Load(bias + column + c))).Store(target + c);
                    }
                }
                else
                {
                    for (int c = 0; c < columns; c++)
                    {
                        target[c] = source[c] + (bias == null ? 0f : bias[column + c]);
                    }
                }
            }
        }
    }

    // 8 rows of x (the first `valid` of them real) against one panel: 24 accumulators, written to tile [8][48].
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile8(float* x, int valid, float* panel, float* tile, int k)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default, a20 = default, a21 = default, a22 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a40 = default, a41 = default, a42 = default, a50 = default, a51 = default, a52 = default;
        Vector512<float> a60 = default, a61 = default, a62 = default, a70 = default, a71 = default, a72 = default;
        float* x1 = RowOf(x, 1, valid, k), x2 = RowOf(x, 2, valid, k), x3 = RowOf(x, 3, valid, k), x4 = RowOf(x, 4, valid, k);
        float* x5 = RowOf(x, 5, valid, k), x6 = RowOf(x, 6, valid, k), x7 = RowOf(x, 7, valid, k);
        for (int i = 0; i < k; i++)
        {
            float* row = panel + ((nint)i * PanelWidth);
            Vector512<float> b0 = Vector512.Load(row), b1 = Vector512.Load(row + 16), b2 = Vector512.Load(row + 32);
            (a00, a01, a02) = Accumulate(x[i], b0, b1, b2, a00, a01, a02);
            (a10, a11, a12) = Accumulate(x1[i], b0, b1, b2, a10, a11, a12);
            (a20, a21, a22) = Accumulate(x2[i], b0, b1, b2, a20, a21, a22);
            (a30, a31, a32) = Accumulate(x3[i], b0, b1, b2, a30, a31, a32);
            (a40, a41, a42) = Accumulate(x4[i], b0, b1, b2, a40, a41, a42);
            (a50, a51, a52) = Accumulate(x5[i], b0, b1, b2, a50, a51, a52);
            (a60, a61, a62) = Accumulate(x6[i], b0, b1, b2, a60, a61, a62);
            (a70, a71, a72) = Accumulate(x7[i], b0, b1, b2, a70, a71, a72);
        }

        Store(tile, a00, a01, a02);
        Store(tile + PanelWidth, a10, a11, a12);
        Store(tile + (2 * PanelWidth), a20, a21, a22);
        Store(tile + (3 * PanelWidth), a30, a31, a32);
        Store(tile + (4 * PanelWidth), a40, a41, a42);
        Store(tile + (5 * PanelWidth), a50, a51, a52);
        Store(tile + (6 * PanelWidth), a60, a61, a62);
        Store(tile + (7 * PanelWidth), a70, a71, a72);
    }

    // 2 rows of x (the first `valid` of them real) against one panel with 256-bit vectors (AVX2: 16 registers, 12 accumulators).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile2(float* x, int valid, float* panel, float* tile, int k)
    {
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default, a04 = default, a05 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default, a14 = default, a15 = default;
        float* x1 = RowOf(x, 1, valid, k);
        for (int i = 0; i < k; i++)
        {
            float* row = panel + ((nint)i * PanelWidth);
            Vector256<float> u = Vector256.Create(x[i]), w = Vector256.Create(x1[i]);
            (a00, a10) = Accumulate(u, w, Vector256.Load(row), a00, a10);
            (a01, a11) = Accumulate(u, w, Vector256.Load(row + 8), a01, a11);
            (a02, a12) = Accumulate(u, w, Vector256.Load(row + 16), a02, a12);
            (a03, a13) = Accumulate(u, w, Vector256.Load(row + 24), a03, a13);
            (a04, a14) = Accumulate(u, w, Vector256.Load(row + 32), a04, a14);
            (a05, a15) = Accumulate(u, w, Vector256.Load(row + 40), a05, a15);
        }

        StoreRow(tile, a00, a01, a02, a03, a04, a05);
        StoreRow(tile + PanelWidth, a10, a11, a12, a13, a14, a15);
    }

    // Two rows' numbers times one vector of the panel row, each added to its row's accumulator.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float>, Vector256<float>) Accumulate(Vector256<float> u, Vector256<float> w, Vector256<float> b, Vector256<float> a0, Vector256<float> a1) =>
        (Fma.MultiplyAdd(u, b, a0), Fma.MultiplyAdd(w, b, a1));

    private static void StoreRow(float* target, Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3, Vector256<float> a4, Vector256<float> a5)
    {
        a0.Store(target);
        a1.Store(target + 8);
        a2.Store(target + 16);
        a3.Store(target + 24);
        a4.Store(target + 32);
        a5.Store(target + 40);
    }

    // One number of x times the panel row's three vectors, added to one row's accumulators.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>, Vector512<float>) Accumulate(float x, Vector512<float> b0, Vector512<float> b1, Vector512<float> b2, Vector512<float> a0, Vector512<float> a1, Vector512<float> a2)
    {
        Vector512<float> v = Vector512.Create(x);
        return (Avx512F.FusedMultiplyAdd(v, b0, a0), Avx512F.FusedMultiplyAdd(v, b1, a1), Avx512F.FusedMultiplyAdd(v, b2, a2));
    }

    // Row `index` of a tile whose first `valid` rows are real; the others repeat the last real row, so nothing past x is read.
    private static float* RowOf(float* x, int index, int valid, int k) => x + ((nint)Math.Min(index, valid - 1) * k);

    private static void Store(float* target, Vector512<float> a, Vector512<float> b, Vector512<float> c)
    {
        a.Store(target);
        b.Store(target + 16);
        c.Store(target + 32);
    }
}
