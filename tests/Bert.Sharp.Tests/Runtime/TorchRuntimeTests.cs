using TorchSharp;

namespace Bert.Sharp.Tests;

public class TorchRuntimeTests
{
    [Fact]
    public void Native_backend_loads_and_computes()
    {
        TorchRuntime.EnsureLoaded();
        using var a = torch.ones(2, 3);
        using var b = torch.ones(3, 4);
        using var c = a.matmul(b);
        Assert.Equal(new long[] { 2, 4 }, c.shape);
        Assert.Equal(3f, c[0, 0].item<float>());
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("CPU")]
    [InlineData(" cpu ")]
    public void ParseDevice_accepts_cpu(string name)
    {
        Assert.Equal(DeviceType.CPU, TorchRuntime.ParseDevice(name).type);
    }

    [Fact]
    public void ParseDevice_rejects_garbage_with_the_name()
    {
        var e = Assert.Throws<ArgumentException>(() => TorchRuntime.ParseDevice("tpu:7"));
        Assert.Contains("tpu:7", e.Message, StringComparison.Ordinal);
    }
}
