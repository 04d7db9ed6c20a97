using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Bert.Sharp.Runtime;

/// <summary>
/// A precision request resolved for one device: what was asked for, what will actually run, and why they differ. Enters
/// LibTorch's autocast around forward passes when a reduced precision runs.
/// </summary>
/// <remarks>
/// The rules (documented in docs/performance.md, "Training precision and memory"):
/// <list type="bullet">
/// <item>Float16 on anything but CUDA: an <see cref="ArgumentException"/> (no fast fp16 on CPUs; use BFloat16).</item>
/// <item>A reduced precision where LibTorch's autocast functions cannot be found (Windows, another LibTorch build): a warning,
/// and fp32 — reported as <see cref="TrainingPrecision.Float32"/>, never as the precision asked for.</item>
/// <item>BFloat16 on a CPU without AVX512_BF16 or AMX: a warning that it will be slow, then genuinely bf16.</item>
/// <item>Auto: BFloat16 on CUDA devices of compute capability 8.0+ and on CPUs with AMX-BF16, Float32 everywhere else
/// (AVX512_BF16 without AMX measured no faster than fp32); <see cref="Reason"/> says which and why.</item>
/// </list>
/// </remarks>
internal sealed partial class MixedPrecision
{
    private readonly TorchSharp.DeviceType device;

    private MixedPrecision(TrainingPrecision requested, TrainingPrecision effective, TorchSharp.DeviceType device, string? warning, string reason)
    {
        Requested = requested;
        Effective = effective;
        this.device = device;
        Warning = warning;
        Reason = reason;
    }

    /// <summary>The precision asked for.</summary>
    public TrainingPrecision Requested { get; }

    /// <summary>The precision that runs.</summary>
    public TrainingPrecision Effective { get; }

    /// <summary>Why <see cref="Effective"/> differs from <see cref="Requested"/>, or why it will be slow; <c>null</c> when all is well.</summary>
    public string? Warning { get; }

    /// <summary>Why <see cref="Effective"/> runs, in one sentence (for the report and the log).</summary>
    public string Reason { get; }

    /// <summary>Whether forward passes run under autocast.</summary>
    public bool UsesAutocast => Effective != TrainingPrecision.Float32;

    /// <summary>The reduced dtype of matrix products (fp32 when none).</summary>
    public ScalarType ComputeDtype => Effective switch
    {
        TrainingPrecision.BFloat16 => ScalarType.BFloat16,
        TrainingPrecision.Float16 => ScalarType.Float16,
        _ => ScalarType.Float32,
    };

    /// <summary>Resolves <paramref name="requested"/> for <paramref name="device"/>.</summary>
    /// <param name="requested">The precision asked for.</param>
    /// <param name="device">Where the model runs.</param>
    /// <param name="optionName">The option that asked, for messages (<c>FineTuningOptions.Precision</c>).</param>
    /// <exception cref="ArgumentException">Float16 off CUDA, or an undefined value.</exception>
    public static MixedPrecision Resolve(TrainingPrecision requested, Device device, string optionName)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (!Enum.IsDefined(requested))
        {
            throw new ArgumentException($"{optionName} = {(int)requested} is not a {nameof(TrainingPrecision)}.");
        }

        if (requested == TrainingPrecision.Auto)
        {
            (TrainingPrecision chosen, string why) = ChooseAutomatically(device);
            MixedPrecision resolved = Resolve(chosen, device, optionName);
            string reason = resolved.Effective == chosen ? $"{nameof(TrainingPrecision.Auto)} chose {chosen}: {why}" : $"{nameof(TrainingPrecision.Auto)} chose {chosen} ({why}), but {resolved.Reason}";
            return new MixedPrecision(requested, resolved.Effective, device.type, resolved.Warning, reason);
        }

        if (requested == TrainingPrecision.Float32)
        {
            return new MixedPrecision(requested, requested, device.type, null, $"{nameof(TrainingPrecision.Float32)} as asked");
        }

        if (device.type is not (TorchSharp.DeviceType.CPU or TorchSharp.DeviceType.CUDA))
        {
            throw new ArgumentException($"{optionName} = {requested} supports the CPU and CUDA; the model is on {device}. Use {nameof(TrainingPrecision.Float32)}.");
        }

        if (requested == TrainingPrecision.Float16 && device.type != TorchSharp.DeviceType.CUDA)
        {
            throw new ArgumentException(
                $"{optionName} = {nameof(TrainingPrecision.Float16)} needs a CUDA device; the model is on {device}. " +
                $"CPUs have no fast float16 matrix products: use {nameof(TrainingPrecision.BFloat16)} (fast with AMX) or {nameof(TrainingPrecision.Float32)}.");
        }

        if (!LibTorchAutocast.IsAvailable)
        {
            return new MixedPrecision(requested, TrainingPrecision.Float32, device.type,
                $"{optionName} = {requested} was requested, but LibTorch's autocast cannot be used here ({LibTorchAutocast.Status}); running in Float32 instead.",
                $"LibTorch's autocast cannot be used here ({LibTorchAutocast.Status}), so {nameof(TrainingPrecision.Float32)} runs");
        }

        if (requested == TrainingPrecision.BFloat16 && device.type == TorchSharp.DeviceType.CPU && !BFloat16Hardware.CpuHasFastBFloat16)
        {
            return new MixedPrecision(requested, requested, device.type,
                $"{optionName} = {nameof(TrainingPrecision.BFloat16)} on a CPU without fast bf16 ({BFloat16Hardware.DescribeCpu()}): it runs in bf16 as asked, " +
                "but LibTorch falls back to a reference bf16 kernel that is 10-80x slower than fp32 per matrix product (a training step measured ~9x slower). " +
                $"Use {nameof(TrainingPrecision.Float32)} on this machine unless you need bf16 numerics.",
                $"{requested} as asked (slow on this CPU: {BFloat16Hardware.DescribeCpu()})");
        }

        return new MixedPrecision(requested, requested, device.type, null, $"{requested} as asked");
    }

    /// <summary>Resolves a predictor's <paramref name="requested"/> precision for <paramref name="device"/>, by the same rules as training's.</summary>
    /// <param name="requested">The precision asked for.</param>
    /// <param name="device">Where the model runs.</param>
    /// <param name="optionName">The option that asked, for messages (<c>TextClassifierOptions.Precision</c>).</param>
    /// <exception cref="ArgumentException">Float16 off CUDA, or an undefined value.</exception>
    public static MixedPrecision Resolve(InferencePrecision requested, Device device, string optionName) => requested switch
    {
        InferencePrecision.Float32 => Resolve(TrainingPrecision.Float32, device, optionName),
        InferencePrecision.BFloat16 => Resolve(TrainingPrecision.BFloat16, device, optionName),
        InferencePrecision.Float16 => Resolve(TrainingPrecision.Float16, device, optionName),
        InferencePrecision.Auto => Resolve(TrainingPrecision.Auto, device, optionName),
        _ => throw new ArgumentException($"{optionName} = {(int)requested} is not an {nameof(InferencePrecision)}."),
    };

    /// <summary><see cref="Effective"/> as a predictor reports it (never <see cref="TrainingPrecision.Auto"/>, which always resolves).</summary>
    public InferencePrecision EffectiveForInference => Effective switch
    {
        TrainingPrecision.BFloat16 => InferencePrecision.BFloat16,
        TrainingPrecision.Float16 => InferencePrecision.Float16,
        _ => InferencePrecision.Float32,
    };

    /// <summary>What <see cref="TrainingPrecision.Auto"/> picks on <paramref name="device"/>, and why.</summary>
    internal static (TrainingPrecision Precision, string Reason) ChooseAutomatically(Device device) =>
        ChooseAutomatically(device.type, device.type == TorchSharp.DeviceType.CUDA ? CudaComputeCapability.Major(device.index) : null,
            BFloat16Hardware.CpuHasAmxBFloat16, BFloat16Hardware.DescribeCpu());

    /// <summary>The rule of <see cref="TrainingPrecision.Auto"/>, on the facts given (testable without the hardware).</summary>
    internal static (TrainingPrecision Precision, string Reason) ChooseAutomatically(TorchSharp.DeviceType device, int? cudaMajor, bool cpuHasAmx, string cpu)
    {
        switch (device)
        {
            case TorchSharp.DeviceType.CUDA when cudaMajor >= 8:
                return (TrainingPrecision.BFloat16, $"the CUDA device has compute capability {cudaMajor}.x, with native bf16 tensor cores");
            case TorchSharp.DeviceType.CUDA:
                return (TrainingPrecision.Float32, cudaMajor is int major
                    ? $"the CUDA device has compute capability {major}.x, below the 8.0 of native bf16"
                    : "the CUDA device's compute capability could not be read from the driver");
            case TorchSharp.DeviceType.CPU when cpuHasAmx:
                return (TrainingPrecision.BFloat16, $"the CPU has AMX-BF16 tile units ({cpu}), where bf16 matrix products are several times faster than fp32");
            case TorchSharp.DeviceType.CPU:
                return (TrainingPrecision.Float32, $"the CPU has no AMX-BF16 ({cpu}); without AMX a bf16 step measured no faster than fp32 (1.59 s vs 1.50 s per 32x128 step with AVX512_BF16 on Zen 4)");
            default:
                return (TrainingPrecision.Float32, $"reduced precision is only supported on the CPU and CUDA, not {device}");
        }
    }

    /// <summary>Enters autocast on this thread when a reduced precision runs; <c>null</c> (nothing to undo) for fp32.</summary>
    public IDisposable? Enter() => UsesAutocast ? LibTorchAutocast.Enter(device, ComputeDtype) : null;

    /// <summary>Logs the warning (if any) and the precision that runs.</summary>
    public void Log(ILogger logger, string what)
    {
        ArgumentNullException.ThrowIfNull(logger);
        if (Warning is not null)
        {
            LogWarning(logger, Warning);
        }

        LogChosen(logger, what, Effective, Requested, Reason);
    }

    [LoggerMessage(EventId = 130, Level = LogLevel.Warning, Message = "{Warning}")]
    private static partial void LogWarning(ILogger logger, string warning);

    [LoggerMessage(EventId = 131, Level = LogLevel.Information, Message = "{What} precision: {Effective} (requested {Requested}): {Reason}")]
    private static partial void LogChosen(ILogger logger, string what, TrainingPrecision effective, TrainingPrecision requested, string reason);
}
