using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Bert.Sharp.Modeling;
using Bert.Sharp.Runtime;
using static TorchSharp.torch;

namespace Bert.Sharp.Attention;

/// <summary>
/// What a fused CPU attention kernel needs to drop the same probabilities as <see cref="FastDropout"/> and to apply the
/// key padding, with nothing stored per element: the dropout key (one draw from the run's generator, as
/// <see cref="FastDropout"/> makes), from which any row of the [batch, heads, query, key] mask is regenerated, and the
/// padding as one word per key.
/// </summary>
internal sealed unsafe class AttentionDropoutMask
{
    // Pinned (allocated on the pinned object heap), so kernels read them through a pointer on any thread.
    private readonly uint[]? allowed;

    // Without dropout (p = 0) every row of the mask is this row of ones, and no key is drawn.
    private readonly float[]? keepAll;

    private AttentionDropoutMask(long keys, uint[]? allowed, ulong key, double probability)
    {
        Keys = keys;
        this.allowed = allowed;
        Key = key;
        Threshold = CpuDropoutMask.Threshold(probability);
        Keep = (float)(1.0 / (1.0 - probability));
        if (probability == 0)
        {
            keepAll = GC.AllocateUninitializedArray<float>((int)keys + 2, pinned: true);
            Array.Fill(keepAll, 1f);
        }
    }

    /// <summary>The key length (the mask's last dimension).</summary>
    public long Keys { get; }

    /// <summary>The counter-based generator's key.</summary>
    public ulong Key { get; }

    /// <summary>The 32-bit threshold below which an element is dropped.</summary>
    public uint Threshold { get; }

    /// <summary>The value of a kept element, 1 / (1 − p).</summary>
    public float Keep { get; }

    /// <summary>
    /// Draws the key from the run's generator (<see cref="DropoutRandomness"/>; nothing is drawn when
    /// <paramref name="probability"/> is 0, as the eager chain draws nothing then) and copies the [batch, key] padding mask
    /// (true where a key may be attended to; <c>null</c> when none is padded) to the host as words.
    /// </summary>
    /// <exception cref="ArgumentException">The padding mask is not [<paramref name="batch"/>, <paramref name="keys"/>].</exception>
    public static AttentionDropoutMask Create(Tensor? keyPaddingMask, long batch, long keys, double probability)
    {
        uint[]? words = null;
        if (keyPaddingMask is not null)
        {
            if (keyPaddingMask.dim() != 2 || keyPaddingMask.shape[0] != batch || keyPaddingMask.shape[1] != keys)
            {
                throw new ArgumentException($"The key padding mask must be [{batch}, {keys}]; got [{string.Join(", ", keyPaddingMask.shape)}].", nameof(keyPaddingMask));
            }

            // One host copy of the small [batch, key] mask, as all-ones or zero words the row kernels select with.
            using Tensor flagsTensor = keyPaddingMask.to(ScalarType.Bool);
            bool[] flags = HostRead.Values<bool>(flagsTensor);
            words = GC.AllocateUninitializedArray<uint>(flags.Length, pinned: true);
            for (int i = 0; i < flags.Length; i++)
            {
                words[i] = flags[i] ? uint.MaxValue : 0u;
            }
        }

        ulong key = probability > 0 ? DeviceRandom.DrawKey(DropoutRandomness.Current) : 0;
        return new AttentionDropoutMask(keys, words, key, probability);
    }

    /// <summary>The padding words of sequence <paramref name="sequence"/> (one per key), or null when no key is padded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint* AllowedKeys(long sequence) =>
        allowed is null ? null : (uint*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(allowed)) + (sequence * Keys);

    /// <summary>
    /// The mask values (0 or <see cref="Keep"/>; all 1 without dropout) of the row starting at flat element <paramref name="firstElement"/> of a
    /// mask of <paramref name="count"/> elements, written to <paramref name="scratch"/> (<see cref="Keys"/> + 2 floats).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.AggressiveInlining)]
    public float* FillRow(float* scratch, long count, long firstElement) => keepAll is not null
        ? (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(keepAll))
        : CpuDropoutMask.FillElements(scratch, count, firstElement, (int)Keys, Key, Threshold, Keep);
}
