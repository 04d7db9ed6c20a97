using Bert.Sharp.Attention;
using Bert.Sharp.Modeling;

namespace Bert.Sharp.Tests.Modeling;

/// <summary>The config validation (tensor-free, in Bert.Sharp.Core) accepts exactly what the TorchSharp model implements.</summary>
public sealed class ArchitectureNamesTests
{
    [Fact]
    public void Every_attention_name_the_config_accepts_has_a_kernel_and_back()
    {
        Assert.Equal(ArchitectureNames.AttentionImplementations.Order(), AttentionKernels.Names.Order());
        Assert.Equal(ArchitectureNames.DefaultAttentionImplementation, AttentionKernels.DefaultName);
    }

    [Fact]
    public void Every_activation_name_the_config_accepts_has_a_function()
    {
        TorchRuntime.EnsureLoaded();
        foreach (string name in ArchitectureNames.Activations)
        {
            using var x = TorchSharp.torch.linspace(-3, 3, 7);
            using var y = Activations.Get(name)(x);
            Assert.Equal(7, y.shape[0]);
        }
    }
}
