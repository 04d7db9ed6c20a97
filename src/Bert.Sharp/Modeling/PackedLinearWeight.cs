using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>
/// A serving copy of a linear weight packed for <see cref="Runtime.SmallRowsGemm"/>, used for inputs of up to
/// <see cref="Runtime.SmallRowsGemm.MaxRows"/> rows without gradients, and only while the weight is what was packed: the
/// same storage, offset and strides, and the same LibTorch version counter of every parameter it came from (any in-place
/// change — an optimizer step, a LoRA merge, <c>mul_</c> by hand — increments it). Otherwise the caller multiplies as usual.
/// The copy is the weight's size again in memory.
/// </summary>
internal sealed class PackedLinearWeight
{
    private readonly float[] panels;
    private readonly Tensor[] sources;
    private readonly long[] versions;
    private readonly IntPtr storage;
    private readonly long offset;
    private readonly long rowStride;
    private readonly long columnStride;

    private unsafe PackedLinearWeight(Tensor weight, Tensor[] sources)
    {
        (this.sources, versions) = (sources, [.. sources.Select(Runtime.TensorVersion.Of)]);
        (OutFeatures, InFeatures) = ((int)weight.shape[0], (int)weight.shape[1]);
        (storage, offset, rowStride, columnStride) = (Runtime.StorageAddress.Of(weight), weight.storage_offset(), weight.stride(0), weight.stride(1));
        float* first = (float*)storage + offset;
        panels = Runtime.SmallRowsGemm.Pack(first, rowStride, columnStride, OutFeatures, InFeatures);
        GC.KeepAlive(weight);
    }

    /// <summary>Output features.</summary>
    public int OutFeatures { get; }

    /// <summary>Input features.</summary>
    public int InFeatures { get; }

    /// <summary>
    /// Packs <paramref name="weight"/> ([out, in], float32 on the CPU), which is <paramref name="sources"/> (the parameters it
    /// is or is a view of), or returns null where the kernel does not run (neither AVX-512 nor AVX2, version counters unreadable, a
    /// parameter made under inference mode, another device or dtype).
    /// </summary>
    public static PackedLinearWeight? TryCreate(Tensor weight, params Tensor[] sources)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (!Runtime.SmallRowsGemm.IsSupported || !Runtime.TensorVersion.IsAvailable || weight.dim() != 2 || weight.device_type != TorchSharp.DeviceType.CPU
            || weight.dtype != ScalarType.Float32 || sources.Any(s => !Runtime.TensorVersion.IsNormalTensor(s)))
        {
            return null;
        }

        return new PackedLinearWeight(weight, sources);
    }

    /// <summary>
    /// <c>input · Wᵀ + bias</c> through the packed copy, or null when it may not be used: gradients on, the input not a
    /// float32 CPU tensor with <see cref="InFeatures"/> in its last axis and at most <see cref="Runtime.SmallRowsGemm.MaxRows"/>
    /// rows, CPU autocast on, <paramref name="currentSources"/> not the very parameters packed, or <paramref name="weight"/>
    /// changed since.
    /// </summary>
    public unsafe Tensor? TryMultiply(Tensor input, ReadOnlySpan<Tensor> currentSources, Tensor weight, Tensor? bias)
    {
        if (currentSources.Length != sources.Length)
        {
            return null;
        }

        for (int i = 0; i < sources.Length; i++)
        {
            if (!ReferenceEquals(currentSources[i], sources[i]))
            {
                return null;
            }
        }

        if (is_grad_enabled() || input.device_type != TorchSharp.DeviceType.CPU || input.dtype != ScalarType.Float32 || input.dim() < 1
            || input.shape[^1] != InFeatures || (bias is not null && (bias.dtype != ScalarType.Float32 || bias.device_type != TorchSharp.DeviceType.CPU)))
        {
            return null;
        }

        // Under autocast (InferencePrecision.BFloat16) LibTorch multiplies in bf16: that is what was asked for, so it runs.
        long rows = input.numel() / InFeatures;
        if (rows == 0 || rows > Runtime.SmallRowsGemm.MaxRows || Runtime.LibTorchAutocast.IsEnabled(TorchSharp.DeviceType.CPU) || !IsCurrent(weight))
        {
            return null;
        }

        // Few tensors per call (each is a native call and a wrapper): the input and bias are used where they lie when contiguous.
        Tensor? copy = input.is_contiguous() ? null : input.contiguous();
        Tensor? biasCopy = bias is null || bias.is_contiguous() ? null : bias.contiguous();
        try
        {
            Tensor x = copy ?? input;
            Tensor? b = biasCopy ?? bias;
            long[] shape = [.. input.shape[..^1], OutFeatures];
            Tensor y = empty(shape, ScalarType.Float32);
            Runtime.SmallRowsGemm.Multiply(Runtime.TensorMemory.Floats(x), panels, b is null ? null : Runtime.TensorMemory.Floats(b), Runtime.TensorMemory.Floats(y), (int)rows, InFeatures, OutFeatures, get_num_threads());
            return y;
        }
        finally
        {
            copy?.Dispose();
            biasCopy?.Dispose();
        }
    }

    // Whether weight is still what was packed: same storage, offset and strides, and no parameter changed in place since.
    private bool IsCurrent(Tensor weight)
    {
        if (weight.device_type != TorchSharp.DeviceType.CPU || weight.dtype != ScalarType.Float32 || weight.dim() != 2 || weight.shape[0] != OutFeatures
            || weight.shape[1] != InFeatures || weight.storage_offset() != offset || weight.stride(0) != rowStride || weight.stride(1) != columnStride
            || Runtime.StorageAddress.Of(weight) != storage)
        {
            return false;
        }

        for (int i = 0; i < sources.Length; i++)
        {
            if (Runtime.TensorVersion.Of(sources[i]) != versions[i])
            {
                return false;
            }
        }

        return true;
    }
}
