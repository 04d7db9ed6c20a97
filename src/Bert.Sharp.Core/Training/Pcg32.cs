namespace Bert.Sharp.Training;

/// <summary>
/// PCG32 (O'Neill, XSH-RR): a small, fast generator whose whole state is two integers, so the trainer can save and
/// restore its shuffling exactly (System.Random's state cannot be serialised).
/// </summary>
internal sealed class Pcg32
{
    private const ulong Multiplier = 6364136223846793005UL;
    private ulong state;
    private ulong increment;

    public Pcg32(ulong seed, ulong stream = 54)
    {
        increment = (stream << 1) | 1UL;
        state = 0;
        NextUInt32();
        state += seed;
        NextUInt32();
    }

    private Pcg32()
    {
    }

    /// <summary>The state, for a checkpoint.</summary>
    public (ulong State, ulong Increment) GetState() => (state, increment);

    /// <summary>Restores a generator from <see cref="GetState"/>.</summary>
    public static Pcg32 FromState(ulong state, ulong increment)
    {
        if ((increment & 1UL) == 0)
        {
            throw new InvalidDataException("A PCG32 increment must be odd; the saved generator state is corrupt.");
        }

        return new Pcg32 { state = state, increment = increment };
    }

    public uint NextUInt32()
    {
        ulong old = state;
        state = unchecked((old * Multiplier) + increment);
        uint xorShifted = (uint)(((old >> 18) ^ old) >> 27);
        int rotation = (int)(old >> 59);
        return (xorShifted >> rotation) | (xorShifted << ((-rotation) & 31));
    }

    /// <summary>A uniform integer in [0, bound), without modulo bias (Lemire's method with rejection).</summary>
    public int NextInt(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        uint threshold = (uint)((0x1_0000_0000UL - (uint)bound) % (uint)bound);
        while (true)
        {
            ulong product = (ulong)NextUInt32() * (uint)bound;
            if ((uint)product >= threshold)
            {
                return (int)(product >> 32);
            }
        }
    }

    /// <summary>A uniformly random permutation of 0..n-1 (Fisher–Yates).</summary>
    public int[] Permutation(int n)
    {
        int[] result = new int[n];
        for (int i = 0; i < n; i++)
        {
            result[i] = i;
        }

        for (int i = n - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (result[i], result[j]) = (result[j], result[i]);
        }

        return result;
    }
}
