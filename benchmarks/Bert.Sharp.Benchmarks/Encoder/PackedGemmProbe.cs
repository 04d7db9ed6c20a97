using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using static TorchSharp.torch;

namespace Bert.Sharp.Benchmarks.Encoder;

/// <summary>
/// The prototype behind issue 23's batch-1 question (command <c>packed-gemm</c>): would packing each linear weight once,
/// as ONNX Runtime's MLAS does at session load, close the gap of small-row products? LibTorch's Linux build links MKL and
/// exports its packed GEMM (<c>SGEMM_PACK</c> / <c>SGEMM_COMPUTE</c>, Fortran LP64 names), which <c>linear</c> does not use.
/// For MiniLM's four linear shapes per layer and several row counts it times <c>nn.functional.linear</c> against a
/// product with the weight packed beforehand (bias written first, accumulated with beta 1), checks they agree, and reports
/// the packed copy's size against the weight's.
/// </summary>
internal static unsafe class PackedGemmProbe
{
    private static readonly (int In, int Out)[] MiniLmLinears = [(384, 1152), (384, 384), (384, 1536), (1536, 384)];

    public static int Run()
    {
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"packed-gemm, {get_num_threads()} threads; the four linear products of one MiniLM layer (QKV, attention output, FFN up, FFN down)");
        foreach ((int inFeatures, int outFeatures) in MiniLmLinears)
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"  packed copy of a {outFeatures}x{inFeatures} weight: {(double)PackedBytes(outFeatures, inFeatures) / (4.0 * outFeatures * inFeatures):F2}x the weight's bytes");
        }

        report.AppendLine("| rows | linear (µs) | packed weight (µs) | linear / packed | max abs difference |");
        report.AppendLine("|---:|---:|---:|---:|---:|");
        foreach (int rows in new[] { 1, 16, 64, 128, 512, 4096 })
        {
            double linearMicroseconds = 0, packedMicroseconds = 0, maxDifference = 0;
            foreach ((int inFeatures, int outFeatures) in MiniLmLinears)
            {
                (double l, double p, double d) = Time(rows, inFeatures, outFeatures);
                linearMicroseconds += l;
                packedMicroseconds += p;
                maxDifference = Math.Max(maxDifference, d);
            }

            report.AppendLine(CultureInfo.InvariantCulture, $"| {rows} | {linearMicroseconds:F1} | {packedMicroseconds:F1} | {linearMicroseconds / packedMicroseconds:F2} | {maxDifference:E1} |");
        }

        Console.WriteLine(report);
        return 0;
    }

    private static nuint PackedBytes(int outFeatures, int inFeatures)
    {
        byte identifier = (byte)'A';
        int m = outFeatures, n = 1, k = inFeatures;
        return SgemmPackGetSize(&identifier, &m, &n, &k);
    }

    // Medians of interleaved rounds, in microseconds, and the largest difference between the two results.
    private static (double Linear, double Packed, double MaxDifference) Time(int rows, int inFeatures, int outFeatures)
    {
        using var generator = new Generator(42);
        using Tensor weight = randn(outFeatures, inFeatures, generator: generator);
        using Tensor bias = randn(outFeatures, generator: generator);
        using Tensor input = randn(rows, inFeatures, generator: generator);
        using Tensor output = empty(rows, outFeatures);
        nuint size = PackedBytes(outFeatures, inFeatures);
        float* packed = (float*)NativeMemory.AlignedAlloc(size, 64);
        try
        {
            fixed (byte* w = weight.bytes)
            {
                // Column-major terms: Yᵀ = op(A)·Xᵀ with A the weight's memory read as [in × out] and op a transpose.
                byte identifier = (byte)'A', transpose = (byte)'T';
                int m = outFeatures, n = rows, k = inFeatures, ld = inFeatures;
                float alpha = 1f;
                SgemmPack(&identifier, &transpose, &m, &n, &k, &alpha, (float*)w, &ld, packed);
            }

            void Packed()
            {
                output.copy_(bias);
                fixed (byte* x = input.bytes)
                fixed (byte* y = output.bytes)
                {
                    byte packedA = (byte)'P', plainB = (byte)'N';
                    int m = outFeatures, n = rows, k = inFeatures, lda = inFeatures, ldb = inFeatures, ldc = outFeatures;
                    float beta = 1f;
                    SgemmCompute(&packedA, &plainB, &m, &n, &k, packed, &lda, (float*)x, &ldb, &beta, (float*)y, &ldc);
                }
            }

            using var noGrad = no_grad();
            using Tensor expected = nn.functional.linear(input, weight, bias);
            Packed();
            double difference = (expected - output).abs().max().item<float>();
            int repetitions = Math.Max(3, 4000 / rows);
            var linearTimes = new List<double>();
            var packedTimes = new List<double>();
            for (int round = 0; round < 9; round++)
            {
                var watch = Stopwatch.StartNew();
                for (int i = 0; i < repetitions; i++)
                {
                    using Tensor product = nn.functional.linear(input, weight, bias);
                }

                linearTimes.Add(watch.Elapsed.TotalMicroseconds / repetitions);
                watch.Restart();
                for (int i = 0; i < repetitions; i++)
                {
                    Packed();
                }

                packedTimes.Add(watch.Elapsed.TotalMicroseconds / repetitions);
            }

            linearTimes.Sort();
            packedTimes.Sort();
            return (linearTimes[4], packedTimes[4], difference);
        }
        finally
        {
            NativeMemory.AlignedFree(packed);
        }
    }

    [DllImport("libtorch_cpu", EntryPoint = "SGEMM_PACK_GET_SIZE")]
    private static extern nuint SgemmPackGetSize(byte* identifier, int* m, int* n, int* k);

    [DllImport("libtorch_cpu", EntryPoint = "SGEMM_PACK")]
    private static extern void SgemmPack(byte* identifier, byte* trans, int* m, int* n, int* k, float* alpha, float* source, int* ld, float* destination);

    [DllImport("libtorch_cpu", EntryPoint = "SGEMM_COMPUTE")]
    private static extern void SgemmCompute(byte* transa, byte* transb, int* m, int* n, int* k, float* a, int* lda, float* b, int* ldb, float* beta, float* c, int* ldc);
}
