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

    [Fact]
    public void A_restored_scaler_continues_exactly_where_the_captured_one_was()
    {
        var original = new GradientScaler(1024);
        original.Update(false); // 512, one skipped
        for (int i = 0; i < 1500; i++)
        {
            original.Update(true);
        }

        LossScalerState saved = original.Capture();
        Assert.Equal(new LossScalerState(512, 1500, 1), saved);

        // Through trainer_state.json, as a checkpoint stores it.
        var state = new TrainerState { LossScaler = saved, Precision = nameof(TrainingPrecision.Float16) };
        string json = System.Text.Json.JsonSerializer.Serialize(state, TrainerState.Json);
        Assert.Contains("\"loss_scaler\"", json, StringComparison.Ordinal);
        TrainerState read = System.Text.Json.JsonSerializer.Deserialize<TrainerState>(json, TrainerState.Json)!;

        var resumed = new GradientScaler();
        resumed.Restore(read.LossScaler!, "ckpt");
        for (int i = 0; i < 500; i++)
        {
            original.Update(true);
            resumed.Update(true);
        }

        Assert.Equal(1024, original.Scale); // grew after 2000 clean steps in total, not 2000 after the resume
        Assert.Equal(original.Capture(), resumed.Capture());
    }

    [Theory]
    [InlineData(0.0, 0, 0)]
    [InlineData(double.PositiveInfinity, 0, 0)]
    [InlineData(double.NaN, 0, 0)]
    [InlineData(1024.0, -1, 0)]
    [InlineData(1024.0, GradientScaler.GrowthInterval, 0)]
    [InlineData(1024.0, 0, -3)]
    public void A_damaged_scaler_state_is_refused_naming_the_checkpoint(double scale, int clean, int skipped)
    {
        var error = Assert.Throws<InvalidDataException>(() => new GradientScaler().Restore(new LossScalerState(scale, clean, skipped), "out/checkpoint-7"));
        Assert.Contains("out/checkpoint-7", error.Message, StringComparison.Ordinal);
        Assert.Contains("loss_scaler", error.Message, StringComparison.Ordinal);
    }
}
