using Bert.Sharp.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>
/// Dropout with the same distribution as torch's (each element kept with probability 1 − p and scaled by 1 / (1 − p)).
/// On the CPU the mask comes from <see cref="CpuDropoutMask"/> (parallel, counter-based) instead of torch's CPU samplers,
/// which draw one element at a time on one thread and made dropout the largest cost of a BERT training step after the
/// matrix products; elsewhere from one uniform draw per element on the tensor's device (see <see cref="DeviceRandom"/>). Active only in training mode, like <c>nn.Dropout</c>.
/// Draws from the run's generator inside training (see <see cref="DropoutRandomness"/>), otherwise from torch's global one.
/// </summary>
internal sealed class FastDropout : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates a dropout with probability <paramref name="probability"/> in [0, 1).</summary>
    public FastDropout(double probability) : base(nameof(FastDropout))
    {
        if (!(probability >= 0 && probability < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "Dropout probability must be in [0, 1).");
        }

        Probability = probability;
    }

    /// <summary>The probability of zeroing an element.</summary>
    public double Probability { get; }

    /// <summary>Drops elements of <paramref name="input"/> in training mode; returns it unchanged otherwise.</summary>
    public override Tensor forward(Tensor input) => training ? Apply(input, Probability) : input;

    /// <summary>Applies dropout unconditionally (the caller decides about training mode).</summary>
    public static Tensor Apply(Tensor input, double probability)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (probability <= 0)
        {
            return input;
        }

        Generator? generator = DropoutRandomness.Current;
        if (input.device_type == DeviceType.CPU)
        {
            using Tensor cpuMask = CpuDropoutMask.Create(input.shape, input.dtype, probability, generator);
            return input * cpuMask;
        }

        // Elsewhere (CUDA) torch's parallel sampler is fast: one uniform draw per element, compared and scaled in place. The
        // run's generator is a CPU one: DeviceRandom seeds the device's generator from it (never hands it to a device draw).
        using Tensor uniform = DeviceRandom.UniformLike(input, generator);
        using Tensor mask = HeldScalars.MultiplyInPlace(HeldScalars.GreaterOrEqualInPlace(uniform, probability), 1.0 / (1.0 - probability));
        return input * mask;
    }
}
