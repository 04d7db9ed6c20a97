using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Bert.Sharp.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>
/// Dropout masks for CPU tensors from a counter-based generator: element pair <c>i</c> takes the SplitMix64 hash of
/// <c>key + i·φ</c> (two 32-bit uniforms), so every block of the mask can be filled on its own thread and the mask depends
/// only on the key, never on the thread count. The key is one 64-bit draw from the generator the caller uses (the run's,
/// or torch's global one), so seeded runs, exact resume and gradient checkpointing (which replays the generator state)
/// see the same masks.
/// </summary>
/// <remarks>
/// Why not torch's own sampler: LibTorch draws CPU random numbers one element at a time from one locked Mersenne
/// Twister, on one thread — 43 ms for the [32, 12, 128, 128] attention map of one layer on a 2-core Zen 3, about 12 % of a
/// MiniLM fine-tuning step over all dropouts. This fills the same mask in a few milliseconds. An element is dropped when
/// its 32-bit uniform is below <c>round(p·2³²)</c>, so the drop probability is p to within 2⁻³²; kept elements hold
/// <c>1 / (1 − p)</c>, as torch's dropout scales them.
/// </remarks>
internal static unsafe class CpuDropoutMask
{
    // Element pairs per block handed to one thread: large enough to amortise scheduling, small enough to balance 2–64 cores.
    private const long BlockPairs = 1 << 15;
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    // SplitMix64's finaliser multipliers, shared by the scalar and the vector form of the hash.
    private const ulong MixMultiplier1 = 0xBF58476D1CE4E5B9UL;
    private const ulong MixMultiplier2 = 0x94D049BB133111EBUL;

    /// <summary>
    /// A contiguous CPU tensor of <paramref name="shape"/> and <paramref name="dtype"/> holding 0 (dropped) or
    /// 1 / (1 − <paramref name="probability"/>) (kept).
    /// </summary>
    /// <param name="shape">The shape of the tensor the mask multiplies.</param>
    /// <param name="dtype">The element type of that tensor (masks are built in float32 and converted otherwise).</param>
    /// <param name="probability">The probability of dropping an element, in (0, 1).</param>
    /// <param name="generator">The generator the key is drawn from; <c>null</c> for torch's global CPU generator.</param>
    public static Tensor Create(long[] shape, ScalarType dtype, double probability, Generator? generator)
    {
        ulong key = DeviceRandom.DrawKey(generator);
        Tensor mask = empty(shape, ScalarType.Float32, CPU);
        Fill(TensorMemory.Floats(mask), mask.numel(), key, Threshold(probability), (float)(1.0 / (1.0 - probability)));

        if (dtype == ScalarType.Float32)
        {
            return mask;
        }

        using (mask)
        {
            return mask.to(dtype);
        }
    }

    /// <summary>The 32-bit threshold below which an element is dropped.</summary>
    internal static uint Threshold(double probability) => (uint)Math.Min(Math.Round(probability * 4294967296.0), uint.MaxValue);

    /// <summary>
    /// Fills <paramref name="count"/> floats at <paramref name="destination"/> on up to <paramref name="threads"/> threads
    /// (default: torch's intra-op thread count); the same key gives the same mask whatever the thread count.
    /// </summary>
    internal static void Fill(float* destination, long count, ulong key, uint threshold, float keep, int? threads = null)
    {
        long pairs = (count + 1) / 2;
        long blocks = (pairs + BlockPairs - 1) / BlockPairs;
        var target = (IntPtr)destination;
        if (blocks <= 1)
        {
            FillBlock(destination, count, key, threshold, keep, 0, pairs);
            return;
        }

        LibTorchThreadTeam.For(blocks, threads ?? torch.get_num_threads(), block =>
        {
            long start = block * BlockPairs;
            FillBlock((float*)target, count, key, threshold, keep, start, Math.Min(pairs, start + BlockPairs));
        });
    }

    /// <summary>
    /// Writes the mask values of elements <paramref name="firstElement"/> .. <paramref name="firstElement"/> +
    /// <paramref name="length"/> − 1 of a mask of <paramref name="count"/> elements to <paramref name="scratch"/> and returns
    /// where they start in it (<paramref name="scratch"/> or one element on): the same values as <see cref="Fill"/>'s at
    /// those positions, so a kernel can regenerate one row of a mask instead of storing it. <paramref name="scratch"/>
    /// must hold <paramref name="length"/> + 2 floats.
    /// </summary>
    internal static float* FillElements(float* scratch, long count, long firstElement, int length, ulong key, uint threshold, float keep)
    {
        long firstPair = firstElement / 2;
        long endPair = Math.Min((count + 1) / 2, (firstElement + length + 1) / 2);
        // FillBlock writes pair i at destination[2i]: shift the base so that pair firstPair lands at scratch[0].
        FillBlock(scratch - (2 * firstPair), count, key, threshold, keep, firstPair, endPair);
        return scratch + (firstElement & 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FillBlock(float* destination, long count, ulong key, uint threshold, float keep, long startPair, long endPair)
    {
        long fullPairs = Math.Min(endPair, count / 2);
        long scalarStart = Vector512.IsHardwareAccelerated ? FillPairsVector512(destination, key, threshold, keep, startPair, fullPairs)
            : Avx2.IsSupported ? FillPairsAvx2(destination, key, threshold, keep, startPair, fullPairs)
            : startPair;
        FillPairsScalar(destination, count, key, threshold, keep, scalarStart, fullPairs, endPair);
    }

    // Eight pairs per step with AVX-512: the eight 64-bit hashes, read as sixteen 32-bit uniforms, are already in element
    // order (pair i's low half is element 2i, its high half 2i + 1, little-endian), so the mask is the same, bit for bit,
    // as the scalar loop's. Returns the first pair left for the scalar loop.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long FillPairsVector512(float* destination, ulong key, uint threshold, float keep, long startPair, long endPair)
    {
        Vector512<ulong> golden = Vector512.Create(Golden);
        Vector512<ulong> multiplier1 = Vector512.Create(MixMultiplier1);
        Vector512<ulong> multiplier2 = Vector512.Create(MixMultiplier2);
        Vector512<ulong> counter = Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7) + Vector512.Create((ulong)startPair);
        Vector512<ulong> step = Vector512.Create(8UL);
        Vector512<ulong> keyVector = Vector512.Create(key);
        Vector512<uint> thresholdVector = Vector512.Create(threshold);
        Vector512<uint> keepBits = Vector512.Create(BitConverter.SingleToUInt32Bits(keep));
        long i = startPair;
        for (; i + 8 <= endPair; i += 8)
        {
            Vector512<ulong> z = keyVector + (counter * golden);
            z = (z ^ (z >>> 30)) * multiplier1;
            z = (z ^ (z >>> 27)) * multiplier2;
            z ^= z >>> 31; // the scalar Mix, lane by lane
            Vector512<uint> kept = Vector512.GreaterThanOrEqual(z.AsUInt32(), thresholdVector) & keepBits;
            kept.Store((uint*)destination + (2 * i));
            counter += step;
        }

        return i;
    }

    // Four pairs per step with AVX2, which has no 64-bit multiply: each product by a constant is put together from three
    // 32 × 32 → 64-bit ones (low·low + (high·low + low·high) << 32, mod 2⁶⁴), and the counter's product by φ is carried
    // forward by addition. Unsigned compares are signed ones with the sign bits flipped. Same bits as the scalar loop.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static long FillPairsAvx2(float* destination, ulong key, uint threshold, float keep, long startPair, long endPair)
    {
        long i = startPair;
        if (i + 4 > endPair)
        {
            return i;
        }

        Vector256<ulong> hashInput = Vector256.Create(key + ((ulong)i * Golden), key + ((ulong)(i + 1) * Golden), key + ((ulong)(i + 2) * Golden), key + ((ulong)(i + 3) * Golden));
        Vector256<ulong> step = Vector256.Create(unchecked(4 * Golden));
        Vector256<uint> signBit = Vector256.Create(0x8000_0000u);
        Vector256<int> thresholdFlipped = Vector256.Create(threshold ^ 0x8000_0000u).AsInt32();
        Vector256<uint> keepBits = Vector256.Create(BitConverter.SingleToUInt32Bits(keep));
        for (; i + 4 <= endPair; i += 4)
        {
            Vector256<ulong> z = hashInput;
            z = MultiplyAvx2(z ^ Avx2.ShiftRightLogical(z, 30), MixMultiplier1);
            z = MultiplyAvx2(z ^ Avx2.ShiftRightLogical(z, 27), MixMultiplier2);
            z ^= Avx2.ShiftRightLogical(z, 31); // the scalar Mix, lane by lane
            Vector256<int> uniformFlipped = (z.AsUInt32() ^ signBit).AsInt32();
            // Kept where uniform >= threshold, i.e. where threshold > uniform is false.
            Vector256<uint> kept = Avx2.AndNot(Avx2.CompareGreaterThan(thresholdFlipped, uniformFlipped).AsUInt32(), keepBits);
            kept.Store((uint*)destination + (2 * i));
            hashInput += step;
        }

        return i;
    }

    // z × constant mod 2⁶⁴ in each 64-bit lane, from AVX2's 32 × 32 → 64-bit products of the lanes' low halves.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> MultiplyAvx2(Vector256<ulong> z, ulong constant)
    {
        Vector256<uint> low = Vector256.Create(constant & 0xFFFF_FFFFUL).AsUInt32();
        Vector256<uint> high = Vector256.Create(constant >> 32).AsUInt32();
        Vector256<ulong> lowLow = Avx2.Multiply(z.AsUInt32(), low);
        Vector256<ulong> cross = Avx2.Multiply(Avx2.ShiftRightLogical(z, 32).AsUInt32(), low) + Avx2.Multiply(z.AsUInt32(), high);
        return lowLow + Avx2.ShiftLeftLogical(cross, 32);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FillPairsScalar(float* destination, long count, ulong key, uint threshold, float keep, long startPair, long fullPairs, long endPair)
    {
        uint keepBits = BitConverter.SingleToUInt32Bits(keep);
        for (long i = startPair; i < fullPairs; i++)
        {
            ulong z = Mix(key + ((ulong)i * Golden));
            destination[2 * i] = BitConverter.UInt32BitsToSingle(keepBits & KeepMask((uint)z, threshold));
            destination[(2 * i) + 1] = BitConverter.UInt32BitsToSingle(keepBits & KeepMask((uint)(z >> 32), threshold));
        }

        if (endPair > fullPairs && count % 2 == 1)
        {
            // The odd last element uses the low half of its pair's draw.
            ulong z = Mix(key + ((ulong)fullPairs * Golden));
            destination[count - 1] = BitConverter.UInt32BitsToSingle(keepBits & KeepMask((uint)z, threshold));
        }
    }

    // All ones when the uniform is at or above the threshold (kept), zero otherwise; branch-free, since the outcome is random.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint KeepMask(uint uniform, uint threshold) => (uint)(((long)threshold - 1 - uniform) >> 63);

    // SplitMix64's finaliser: a bijective hash whose outputs over consecutive counters pass BigCrush.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * MixMultiplier1;
        z = (z ^ (z >> 27)) * MixMultiplier2;
        return z ^ (z >> 31);
    }
}
