using Bert.Sharp.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Training;

public class GradientScalerTests
{
    [Fact]
    public void Unscale_divides_gradients_by_the_scale()
    {
        using var scope = NewDisposeScope();
        var scaler = new GradientScaler(1024);
        var p = new Parameter(zeros(3));
        p.grad = tensor(new float[] { 1024, -2048, 512 });
        Assert.True(scaler.Unscale([p]));
        Assert.Equal(new float[] { 1, -2, 0.5f }, p.grad!.data<float>().ToArray());
        Assert.Equal(8.0, scaler.ScaleLoss(tensor(1f / 128)).item<float>());
    }

    [Fact]
    public void An_overflow_skips_the_step_and_halves_the_scale_and_clean_steps_grow_it()
    {
        using var scope = NewDisposeScope();
        var scaler = new GradientScaler(1024);
        var p = new Parameter(zeros(2));
        p.grad = tensor(new float[] { float.PositiveInfinity, 1 });
        bool finite = scaler.Unscale([p]);
        Assert.False(finite);
        scaler.Update(finite);
        Assert.Equal(512, scaler.Scale);
        Assert.Equal(1, scaler.SkippedSteps);
        for (int i = 0; i < GradientScaler.GrowthInterval; i++)
        {
            scaler.Update(true);
        }

        Assert.Equal(1024, scaler.Scale);
        Assert.Throws<ArgumentOutOfRangeException>(() => new GradientScaler(0));
    }
}
