using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Bert.Sharp.Runtime;

/// <summary>
/// MKL's single-precision matrix product (<c>sgemm_</c>, the LP64 Fortran interface) as LibTorch's Linux x64 build links
/// and exports it from <c>libtorch_cpu</c>, called on one thread per caller: for kernels that run many small products on
/// their own threads (one attention head each) with the intermediates in cache, where one LibTorch operator per product
/// would cost more in dispatch than the product itself.
/// </summary>
/// <remarks>
/// Resolved once. Where the exports are missing (another platform or LibTorch build) or the self-check fails (a 2 × 3 by
/// 3 × 2 product and the thread-count round trip give other answers than they must), <see cref="IsAvailable"/> is false,
/// <see cref="Status"/> says why, and callers keep LibTorch's operators; <c>BERT_SHARP_MKL_DIRECT=0</c> in the environment
/// does the same on purpose.
/// </remarks>
internal static unsafe class MklGemm
{
    /// <summary>Set to 0 before the first use to keep LibTorch's operators (the kernels that call MKL directly are skipped).</summary>
    internal const string OptOutVariable = "BERT_SHARP_MKL_DIRECT";

    private static readonly NativeBinding<Functions> Binding = new(Resolve);

    /// <summary>Whether the product can be called.</summary>
    public static bool IsAvailable => Binding.IsAvailable;

    /// <summary>"available", or why not.</summary>
    public static string Status => Binding.Status;

    /// <summary>
    /// Row-major C[m × n] = <paramref name="alpha"/> · op(A) · op(B) + <paramref name="beta"/> · C, where op transposes
    /// when asked; leading dimensions are row strides in elements. Call inside <see cref="OnThisThreadOnly"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.AggressiveInlining)]
    public static void RowMajor(bool transposeA, bool transposeB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        Functions f = Binding.Require("MKL's sgemm");
        // Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: the operands swap and keep their flags.
        byte tb = transposeB ? (byte)'T' : (byte)'N', ta = transposeA ? (byte)'T' : (byte)'N';
        f.Sgemm(&tb, &ta, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc);
    }

    /// <summary>
    /// Makes MKL run this thread's products on this thread alone until disposed (its thread-local thread count), so that
    /// callers on several threads do not each start a team of MKL threads.
    /// </summary>
    public static ThreadScope OnThisThreadOnly()
    {
        Functions f = Binding.Require("MKL's sgemm");
        int one = 1;
        return new ThreadScope(f, f.SetLocalThreads(&one));
    }

    private static (Functions? Functions, string Status) Resolve() => LibTorchCpuLibrary.Bind(
        OptOutVariable,
        OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64 ? null : "used on Linux x64 only (where LibTorch links MKL and exports it)",
        library =>
        {
            if (!NativeLibrary.TryGetExport(library, "sgemm_", out nint sgemm) || !NativeLibrary.TryGetExport(library, "MKL_SET_NUM_THREADS_LOCAL", out nint setLocal))
            {
                return (null, "libtorch_cpu exports no sgemm_ or MKL_SET_NUM_THREADS_LOCAL (a LibTorch build without MKL)");
            }

            var f = new Functions(sgemm, setLocal);
            string? failure = SelfCheck(f);
            return failure is null ? (f, "available") : (null, failure);
        });

    // A product whose every entry is known exactly, and the thread-count setting read back: null when both hold.
    private static string? SelfCheck(Functions f)
    {
        float* a = stackalloc float[] { 1, 2, 3, 4, 5, 6 }; // 2 × 3
        float* b = stackalloc float[] { 7, 8, 9, 10, 11, 12 }; // 3 × 2
        float* c = stackalloc float[] { -1, -1, -1, -1 };
        float* expected = stackalloc float[] { 58, 64, 139, 154 };
        int one = 1;
        int previous = f.SetLocalThreads(&one);
        byte n = (byte)'N';
        int two = 2, three = 3;
        float alpha = 1, beta = 0;
        f.Sgemm(&n, &n, &two, &two, &three, &alpha, b, &two, a, &three, &beta, c, &two);
        int readBack = f.SetLocalThreads(&previous);
        for (int i = 0; i < 4; i++)
        {
            if (c[i] != expected[i])
            {
                return $"sgemm_ failed its self-check (element {i}: {c[i]} instead of {expected[i]}); an interface other than LP64?";
            }
        }

        return readBack == 1 ? null : $"MKL_SET_NUM_THREADS_LOCAL failed its self-check (read back {readBack} instead of 1)";
    }

    internal sealed class Functions(nint sgemm, nint setLocalThreads)
    {
        public delegate* unmanaged<byte*, byte*, int*, int*, int*, float*, float*, int*, float*, int*, float*, float*, int*, void> Sgemm { get; } =
            (delegate* unmanaged<byte*, byte*, int*, int*, int*, float*, float*, int*, float*, int*, float*, float*, int*, void>)sgemm;

        // The Fortran form takes its argument by reference; 0 restores the global setting. Returns the previous local count.
        public delegate* unmanaged<int*, int> SetLocalThreads { get; } = (delegate* unmanaged<int*, int>)setLocalThreads;
    }

    /// <summary>Restores the thread's previous MKL thread count when disposed.</summary>
    internal readonly struct ThreadScope(Functions functions, int previous) : IDisposable
    {
        /// <inheritdoc />
        public void Dispose()
        {
            int value = previous;
            functions.SetLocalThreads(&value);
        }
    }
}
