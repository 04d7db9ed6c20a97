using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Runtime;

/// <summary>
/// The one place the library draws random tensors from a generator, so that a generator is only ever used for tensors
/// on its own device. A training run's generator is a CPU generator (TorchSharp 0.107 creates generators on the CPU only,
/// whatever device it is given), and its state is what checkpoints save and gradient checkpointing replays, so it stays
/// the single source of randomness for every device:
/// <list type="bullet">
/// <item>CPU tensors draw from it directly (unchanged numbers);</item>
/// <item>initial values on another device (LoRA, heads) are drawn on the CPU and copied, so they equal the CPU's;</item>
/// <item>per-step draws on CUDA (dropout, attention dropout) take one 64-bit key from it on the host, seed the device's
/// default generator with that key and draw there at once, under a lock, so runs are reproducible, exact resume needs
/// only the CPU generator's state, and the checkpointing replay (which restores that state) gets the same masks;</item>
/// <item>a generator whose device is neither the CPU nor the tensor's fails with <see cref="InvalidOperationException"/>
/// naming both devices, instead of a native crash (what <c>rand(..., device: cuda, generator: cpu)</c> did).</item>
/// </list>
/// A source-scanning test keeps random draws with a generator out of every other file.
/// </summary>
internal static class DeviceRandom
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    // Seeding a device's default generator and drawing from it must not interleave with another thread doing the same.
    private static readonly Lock DeviceGeneratorLock = new();

    /// <summary>
    /// A 64-bit key from <paramref name="generator"/> (a CPU generator; <c>null</c>: torch's global CPU one), read on the
    /// host: the seed of counter-based masks (<c>CpuDropoutMask</c>) and of device draws.
    /// </summary>
    public static ulong DrawKey(Generator? generator)
    {
        if (generator is not null)
        {
            RequireGeneratorOn(generator, CPU, "draw a key");
        }

        using Tensor draw = randint(long.MaxValue, [1], ScalarType.Int64, CPU, generator: generator);
        return unchecked((ulong)HostRead.Item<long>(draw) * Golden);
    }

    /// <summary>Uniform [0, 1) values shaped like <paramref name="input"/>, on its device, from <paramref name="generator"/> (see the type's rules).</summary>
    public static Tensor UniformLike(Tensor input, Generator? generator)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (generator is null)
        {
            return rand_like(input);
        }

        if (SameDevice(generator.device, input.device))
        {
            return rand(input.shape, input.dtype, input.device, generator: generator);
        }

        RequireGeneratorOn(generator, CPU, $"draw a tensor on '{input.device}'");
        return WithDeviceSeed(input.device, generator, () => rand_like(input));
    }

    /// <summary>
    /// Uniform [0, 1) values of <paramref name="shape"/> on <paramref name="device"/> drawn on the CPU from
    /// <paramref name="generator"/> and copied there: the same values on every device (initialisation).
    /// </summary>
    public static Tensor Uniform(long[] shape, ScalarType dtype, Device device, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(generator);
        RequireGeneratorOn(generator, CPU, $"initialise a tensor on '{device}'");
        Tensor values = rand(shape, dtype, CPU, generator: generator);
        if (device.type == DeviceType.CPU)
        {
            return values;
        }

        using (values)
        {
            return values.to(device);
        }
    }

    /// <summary>
    /// Fills <paramref name="target"/> in place with normal(<paramref name="mean"/>, <paramref name="std"/>) values drawn
    /// on the CPU from <paramref name="generator"/>: the same values on every device (initialisation).
    /// </summary>
    public static void NormalInPlace(Tensor target, double mean, double std, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(generator);
        RequireGeneratorOn(generator, CPU, $"initialise a tensor on '{target.device}'");
        using var noGrad = no_grad();
        // Not nn.init.normal_(target, mean, std, generator): TorchSharp 0.107 ignores that generator and draws from the
        // global one (issue 21 row 12: a "seeded" head differed from run to run). randn honours it.
        using Tensor values = randn(target.shape, ScalarType.Float32, CPU, generator: generator);
        HeldScalars.AddInPlace(HeldScalars.MultiplyInPlace(values, std), mean);
        target.copy_(values);
    }

    /// <summary>
    /// Runs <paramref name="draw"/> (work that samples from <paramref name="device"/>'s default generator, such as
    /// <c>rand_like</c> or attention dropout) after seeding that generator with a key from <paramref name="generator"/>
    /// (the run's CPU generator); <c>null</c> runs it as it is, on torch's global generators.
    /// </summary>
    /// <exception cref="InvalidOperationException">The device has no default generator this can seed.</exception>
    public static T WithDeviceSeed<T>(Device device, Generator? generator, Func<T> draw)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(draw);
        if (generator is null)
        {
            return draw();
        }

        ulong key = DrawKey(generator);
        lock (DeviceGeneratorLock)
        {
            SeedDefaultGenerator(device, key);
            return draw();
        }
    }

    /// <summary>Throws unless <paramref name="generator"/> lives on <paramref name="device"/>; the message names both.</summary>
    /// <exception cref="InvalidOperationException">The devices differ.</exception>
    public static void RequireGeneratorOn(Generator generator, Device device, string purpose)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(device);
        if (!SameDevice(generator.device, device))
        {
            throw new InvalidOperationException(
                $"Cannot {purpose} with a random generator on '{generator.device}': it must be on '{device}'. " +
                "Random tensors must come from a generator on their own device (a mismatch crashes LibTorch natively).");
        }
    }

    private static bool SameDevice(Device a, Device b) =>
        a.type == b.type && (a.index == b.index || a.index < 0 || b.index < 0);

    private static void SeedDefaultGenerator(Device device, ulong key)
    {
        switch (device.type)
        {
            case DeviceType.CUDA:
                // Every CUDA device's default generator: torch.cuda.manual_seed seeds only the current device, which need not be this one.
                torch.cuda.manual_seed_all(unchecked((long)key));
                break;
            case DeviceType.META:
                // Meta tensors hold no values: nothing to seed (the draw only propagates shapes).
                break;
            default:
                throw new InvalidOperationException(
                    $"Random tensors on '{device}' cannot be drawn reproducibly from the run's CPU generator: only cpu and cuda are supported.");
        }
    }
}
