using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Bert.Sharp.Runtime;
using Bert.Sharp.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Runtime;

public class MklCpuDispatchTests
{
    private static bool IsAmdLinuxX64()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64 || !X86Base.IsSupported)
        {
            return false;
        }

        (int _, int ebx, int _, int _) = X86Base.CpuId(0, 0);
        return ebx == 0x68747541; // "Auth" of AuthenticAMD
    }

    [Fact]
    public void Status_says_applied_on_amd_linux_and_why_not_elsewhere()
    {
        string status = TorchRuntime.MklCpuDispatchStatus;
        if (IsAmdLinuxX64() && Environment.GetEnvironmentVariable("BERT_SHARP_MKL_AMD_DISPATCH") is not "0")
        {
            Assert.Equal("applied", status);
        }
        else
        {
            Assert.StartsWith("skipped:", status, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Generic_kernels_found_after_the_fix_are_reported_as_too_late()
    {
        Assert.StartsWith(MklCpuDispatch.TooLatePrefix, MklCpuDispatch.Verdict(0, hasAvx2: true), StringComparison.Ordinal);
        Assert.Contains("TorchRuntime.EnsureLoaded()", MklCpuDispatch.Verdict(0, hasAvx2: true), StringComparison.Ordinal);
        Assert.Equal("applied", MklCpuDispatch.Verdict(7, hasAvx2: true)); // MKL's AVX-512 kernels
        Assert.Equal("applied", MklCpuDispatch.Verdict(0, hasAvx2: false)); // no faster kernels to miss
        Assert.False(MklCpuDispatch.IsTooLate, MklCpuDispatch.Status); // this process loaded Bert.Sharp first (TestAssemblyStartup)
    }

    [Fact]
    public void A_torchsharp_product_before_bert_sharp_is_reported_and_logged_at_model_load()
    {
        string directory = TestTemp.NewDirectory("mkl-order");
        try
        {
            using (var model = new BertModel(TinyConfigs.Bert()))
            {
                model.SavePretrained(directory);
            }

            string worker = RepositoryPaths.Combine("tests", "SaveWorker", "bin", "Release", "net10.0", "SaveWorker.dll");
            Assert.True(File.Exists(worker), $"{worker} is missing: build the solution (dotnet build Bert.Sharp.sln -c Release)");
            (int exitCode, string output) = ProcessRunner.Run("dotnet", [worker, "--mkl-after-torch", directory], directory, TimeSpan.FromMinutes(2));
            Assert.True(exitCode == 0, output);
            bool patched = IsAmdLinuxX64() && Environment.GetEnvironmentVariable("BERT_SHARP_MKL_AMD_DISPATCH") is not "0";
            if (patched && Avx2.IsSupported)
            {
                Assert.Contains($"status: {MklCpuDispatch.TooLatePrefix}", output, StringComparison.Ordinal);
                Assert.Contains("log Warning: MKL runs its generic kernels on this AMD processor: too late:", output, StringComparison.Ordinal);
            }
            else
            {
                // Not AMD (or switched off): nothing patched; an AMD CPU without AVX2 has no faster kernels to miss.
                Assert.Contains(patched ? "status: applied" : "status: skipped:", output, StringComparison.Ordinal);
                Assert.DoesNotContain("log Warning: MKL", output, StringComparison.Ordinal);
            }
        }
        finally
        {
            TestTemp.TryDelete(directory);
        }
    }

    [Fact]
    public void Matrix_products_stay_correct_after_the_dispatch_change()
    {
        TorchRuntime.EnsureLoaded();
        torch.manual_seed(3);
        using var scope = NewDisposeScope();
        foreach ((int m, int k, int n) in new[] { (1, 1, 1), (7, 13, 5), (64, 384, 1536), (300, 257, 129) })
        {
            Tensor a = randn(m, k), b = randn(k, n);
            Tensor product = a.matmul(b);
            Tensor reference = a.to(ScalarType.Float64).matmul(b.to(ScalarType.Float64));
            double error = (product.to(ScalarType.Float64) - reference).abs().max().item<double>();
            Assert.True(error < 1e-3 * Math.Sqrt(k), $"{m}x{k}x{n}: max |error| {error}");
        }
    }
}
