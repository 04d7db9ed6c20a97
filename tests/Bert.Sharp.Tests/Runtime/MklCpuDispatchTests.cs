using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
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
