using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Training;

/// <summary>
/// Dynamic loss scaling for float16 mixed precision (PyTorch's <c>GradScaler</c> with its defaults): the loss is multiplied by
/// a large scale before the backward pass so small fp16 gradients do not underflow to zero; the gradients are divided by it
/// again before clipping and the optimizer step. A step whose gradients overflowed is skipped and the scale halved; after
/// <see cref="GrowthInterval"/> clean steps it doubles.
/// </summary>
/// <remarks>bf16 has fp32's exponent range and needs none of this.</remarks>
internal sealed class GradientScaler
{
    /// <summary>Clean steps before the scale doubles (PyTorch: 2000).</summary>
    public const int GrowthInterval = 2000;

    private int cleanSteps;

    /// <summary>Creates a scaler starting at <paramref name="initialScale"/> (PyTorch: 2¹⁶).</summary>
    public GradientScaler(double initialScale = 65536.0)
    {
        if (!(initialScale > 0 && double.IsFinite(initialScale)))
        {
            throw new ArgumentOutOfRangeException(nameof(initialScale), initialScale, "The initial loss scale must be a positive number.");
        }

        Scale = initialScale;
    }

    /// <summary>The current scale.</summary>
    public double Scale { get; private set; }

    /// <summary>Steps skipped because their gradients overflowed.</summary>
    public int SkippedSteps { get; private set; }

    /// <summary>The loss to back-propagate: <paramref name="loss"/> × <see cref="Scale"/>.</summary>
    public Tensor ScaleLoss(Tensor loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        return loss * Scale;
    }

    /// <summary>
    /// Divides every gradient by <see cref="Scale"/> in place; returns whether all of them are finite (false: skip the step).
    /// </summary>
    public bool Unscale(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        using var scope = NewDisposeScope();
        // Finiteness is gathered on the parameters' device and read once (one synchronisation on CUDA, not one per parameter).
        Tensor? allFinite = null;
        foreach (Parameter parameter in parameters)
        {
            Tensor? grad = parameter.grad;
            if (grad is null)
            {
                continue;
            }

            Runtime.HeldScalars.DivideInPlace(grad, Scale);
            Tensor gradFinite = grad.isfinite().all();
            allFinite = allFinite is null ? gradFinite : allFinite.logical_and_(gradFinite);
        }

        return allFinite is null || Runtime.HostRead.Item<bool>(allFinite);
    }

    /// <summary>What a checkpoint keeps so a resumed run continues with the same scale and growth count.</summary>
    public LossScalerState Capture() => new(Scale, cleanSteps, SkippedSteps);

    /// <summary>Continues from a checkpoint's <paramref name="saved"/> state.</summary>
    /// <exception cref="InvalidDataException">The state is out of range (the message names <paramref name="source"/>).</exception>
    public void Restore(LossScalerState saved, string source)
    {
        ArgumentNullException.ThrowIfNull(saved);
        if (!(saved.Scale > 0 && double.IsFinite(saved.Scale)) || saved.CleanSteps is < 0 or >= GrowthInterval || saved.SkippedSteps < 0)
        {
            throw new InvalidDataException($"Checkpoint '{source}': loss_scaler holds scale {saved.Scale}, clean_steps {saved.CleanSteps}, skipped_steps {saved.SkippedSteps}; expected a positive finite scale and 0 <= clean_steps < {GrowthInterval}.");
        }

        Scale = saved.Scale;
        cleanSteps = saved.CleanSteps;
        SkippedSteps = saved.SkippedSteps;
    }

    /// <summary>Adapts the scale after a step: halves it after an overflow, doubles it after <see cref="GrowthInterval"/> clean steps.</summary>
    public void Update(bool finite)
    {
        if (!finite)
        {
            Scale /= 2;
            cleanSteps = 0;
            SkippedSteps++;
            return;
        }

        if (++cleanSteps == GrowthInterval)
        {
            Scale *= 2;
            cleanSteps = 0;
        }
    }
}
