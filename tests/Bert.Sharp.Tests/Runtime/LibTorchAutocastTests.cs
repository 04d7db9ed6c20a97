using Bert.Sharp.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Runtime;

public class LibTorchAutocastTests
{
    [Fact]
    public void Autocast_is_available_where_libtorch_uses_itanium_names()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.False(LibTorchAutocast.IsAvailable);
            Assert.Contains("Windows", LibTorchAutocast.Status, StringComparison.Ordinal);
            return;
        }

        Assert.True(LibTorchAutocast.IsAvailable, LibTorchAutocast.Status);
        Assert.Equal("available", LibTorchAutocast.Status);
    }

    [Fact]
    public void Linear_runs_in_bfloat16_inside_the_scope_and_in_float32_after_it()
    {
        using var scope = NewDisposeScope();
        Tensor x = randn(4, 8);
        Tensor w = randn(3, 8);
        Assert.False(LibTorchAutocast.IsEnabled(DeviceType.CPU));
        using (LibTorchAutocast.Enter(DeviceType.CPU, ScalarType.BFloat16))
        {
            Assert.True(LibTorchAutocast.IsEnabled(DeviceType.CPU));
            Assert.Equal(ScalarType.BFloat16, LibTorchAutocast.GetDtype(DeviceType.CPU));

            // A test that fails if the scope silently left the computation in fp32.
            Assert.Equal(ScalarType.BFloat16, nn.functional.linear(x, w).dtype);
            Assert.Equal(ScalarType.BFloat16, x.matmul(w.t()).dtype);
        }

        Assert.False(LibTorchAutocast.IsEnabled(DeviceType.CPU));
        Assert.Equal(ScalarType.Float32, nn.functional.linear(x, w).dtype);
    }

    [Fact]
    public void Nested_scopes_restore_the_outer_state()
    {
        using var scope = NewDisposeScope();
        using (LibTorchAutocast.Enter(DeviceType.CPU, ScalarType.BFloat16))
        {
            using (LibTorchAutocast.Enter(DeviceType.CPU, ScalarType.Float16))
            {
                Assert.Equal(ScalarType.Float16, LibTorchAutocast.GetDtype(DeviceType.CPU));
            }

            Assert.True(LibTorchAutocast.IsEnabled(DeviceType.CPU));
            Assert.Equal(ScalarType.BFloat16, LibTorchAutocast.GetDtype(DeviceType.CPU));
        }

        Assert.False(LibTorchAutocast.IsEnabled(DeviceType.CPU));
    }

    [Fact]
    public void Loss_and_master_gradients_stay_float32_under_autocast()
    {
        using var scope = NewDisposeScope();
        Tensor w = randn(2, 8).requires_grad_(true);
        Tensor x = randn(5, 8);
        Tensor labels = tensor(new long[] { 0, 1, 1, 0, 1 });
        Tensor loss;
        using (LibTorchAutocast.Enter(DeviceType.CPU, ScalarType.BFloat16))
        {
            Tensor logits = nn.functional.linear(x, w);
            Assert.Equal(ScalarType.BFloat16, logits.dtype);
            loss = nn.functional.cross_entropy(logits, labels);
        }

        Assert.Equal(ScalarType.Float32, loss.dtype);
        loss.backward();
        Assert.Equal(ScalarType.Float32, w.grad!.dtype);
    }

    [Fact]
    public void Float16_is_refused_off_cuda_and_float32_needs_no_autocast()
    {
        var e = Assert.Throws<ArgumentException>(() => MixedPrecision.Resolve(TrainingPrecision.Float16, CPU, "FineTuningOptions.Precision"));
        Assert.Contains("FineTuningOptions.Precision", e.Message, StringComparison.Ordinal);
        Assert.Contains("CUDA", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => MixedPrecision.Resolve((TrainingPrecision)7, CPU, "X"));
        MixedPrecision fp32 = MixedPrecision.Resolve(TrainingPrecision.Float32, CPU, "X");
        Assert.Null(fp32.Enter());
        Assert.Null(fp32.Warning);
    }

    [Fact]
    public void BFloat16_on_a_cpu_without_fast_bf16_runs_bf16_with_a_warning()
    {
        MixedPrecision bf16 = MixedPrecision.Resolve(TrainingPrecision.BFloat16, CPU, "FineTuningOptions.Precision");
        Assert.Equal(TrainingPrecision.BFloat16, bf16.Effective);
        if (BFloat16Hardware.CpuHasFastBFloat16)
        {
            Assert.Null(bf16.Warning);
        }
        else
        {
            Assert.Contains("without fast bf16", bf16.Warning, StringComparison.Ordinal);
            Assert.Contains("slower", bf16.Warning, StringComparison.Ordinal);
        }

        using var scope = NewDisposeScope();
        using (bf16.Enter())
        {
            Assert.Equal(ScalarType.BFloat16, nn.functional.linear(randn(2, 4), randn(3, 4)).dtype);
        }
    }
}
