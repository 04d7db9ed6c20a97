using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Runtime;

/// <summary>
/// Tensor arithmetic with a number, whose native Scalar stays referenced until the operator has returned.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 turns every number handed to an operator (the alpha of 1 inside <c>a + b</c>, the 0.5 of
/// <c>x * 0.5</c>, a fill value) into a native Scalar that no dispose scope tracks and that only its finalizer frees.
/// The Scalar is unreferenced once the operator has read its handle, so a garbage collection started by another thread
/// while the operator runs can free it mid-call. The operator then reads freed memory: it fails with "Expected false to
/// be true" (c10's Scalar check, seen in this repository's tests under GC pressure) or, where the memory already holds
/// another Scalar, computes with the wrong number. Upstream: dotnet/TorchSharp pull request 1496. Each method here keeps
/// its Scalar in a <c>using</c> (or, for the alpha of 1, a static) across the call; the results are those of the plain
/// operators, bit for bit.
/// </remarks>
internal static class HeldScalars
{
    // Referenced by this static field for the life of the process, so never finalized.
    private static readonly Scalar One = 1.ToScalar();

    /// <summary><paramref name="left"/> + <paramref name="right"/> (the <c>+</c> operator).</summary>
    public static Tensor Add(Tensor left, Tensor right) => left.add(right, One);

    /// <summary><paramref name="target"/> += <paramref name="addend"/>, in place.</summary>
    public static Tensor AddInPlace(Tensor target, Tensor addend) => target.add_(addend, One);

    /// <summary><paramref name="tensor"/> + <paramref name="value"/>.</summary>
    public static Tensor Add(Tensor tensor, double value) => Held(tensor, value.ToScalar(), static (t, s) => t.add(s, One));

    /// <summary><paramref name="tensor"/> + <paramref name="value"/> (an integer, for integer tensors).</summary>
    public static Tensor Add(Tensor tensor, long value) => Held(tensor, value.ToScalar(), static (t, s) => t.add(s, One));

    /// <summary><paramref name="tensor"/> += <paramref name="value"/>, in place.</summary>
    public static Tensor AddInPlace(Tensor tensor, double value) => Held(tensor, value.ToScalar(), static (t, s) => t.add_(s, One));

    /// <summary><paramref name="tensor"/> · <paramref name="factor"/>.</summary>
    public static Tensor Multiply(Tensor tensor, double factor) => Held(tensor, factor.ToScalar(), static (t, s) => t.mul(s));

    /// <summary><paramref name="tensor"/> ·= <paramref name="factor"/>, in place.</summary>
    public static Tensor MultiplyInPlace(Tensor tensor, double factor) => Held(tensor, factor.ToScalar(), static (t, s) => t.mul_(s));

    /// <summary><paramref name="tensor"/> / <paramref name="divisor"/>.</summary>
    public static Tensor Divide(Tensor tensor, long divisor) => Held(tensor, divisor.ToScalar(), static (t, s) => t.div(s));

    /// <summary><paramref name="tensor"/> /= <paramref name="divisor"/>, in place.</summary>
    public static Tensor DivideInPlace(Tensor tensor, double divisor) => Held(tensor, divisor.ToScalar(), static (t, s) => t.div_(s));

    /// <summary><paramref name="tensor"/> raised to <paramref name="exponent"/>.</summary>
    public static Tensor Power(Tensor tensor, int exponent) => Held(tensor, exponent.ToScalar(), static (t, s) => t.pow(s));

    /// <summary><paramref name="tensor"/> with <paramref name="value"/> where <paramref name="mask"/> is true.</summary>
    public static Tensor MaskedFill(Tensor tensor, Tensor mask, double value) =>
        Held((tensor, mask), value.ToScalar(), static (x, s) => x.tensor.masked_fill(x.mask, s));

    /// <summary>Writes <paramref name="value"/> into <paramref name="tensor"/> where <paramref name="mask"/> is true.</summary>
    public static Tensor MaskedFillInPlace(Tensor tensor, Tensor mask, double value) =>
        Held((tensor, mask), value.ToScalar(), static (x, s) => x.tensor.masked_fill_(x.mask, s));

    /// <summary>Whether each element of <paramref name="tensor"/> differs from <paramref name="value"/>.</summary>
    public static Tensor NotEqual(Tensor tensor, long value) => Held(tensor, value.ToScalar(), static (t, s) => t.ne(s));

    /// <summary>Whether each element of <paramref name="tensor"/> is at most <paramref name="value"/>.</summary>
    public static Tensor LessOrEqual(Tensor tensor, long value) => Held(tensor, value.ToScalar(), static (t, s) => t.le(s));

    /// <summary>Sets each element of <paramref name="tensor"/> to whether it is at least <paramref name="value"/>, in place.</summary>
    public static Tensor GreaterOrEqualInPlace(Tensor tensor, double value) => Held(tensor, value.ToScalar(), static (t, s) => t.ge_(s));

    /// <summary><paramref name="tensor"/> with every element below <paramref name="minimum"/> raised to it.</summary>
    public static Tensor ClampMin(Tensor tensor, double minimum) => Held(tensor, minimum.ToScalar(), static (t, s) => t.clamp_min(s));

    /// <summary><c>arange(start, stop, step)</c> of <paramref name="dtype"/> on <paramref name="device"/>.</summary>
    public static Tensor Range(long start, long stop, long step, ScalarType dtype, Device device)
    {
        using Scalar first = start.ToScalar(), end = stop.ToScalar(), increment = step.ToScalar();
        return arange(first, end, increment, dtype, device);
    }

    /// <summary><c>arange(stop)</c>: 0, 1, …, <paramref name="stop"/> − 1, of <paramref name="dtype"/> on <paramref name="device"/>.</summary>
    public static Tensor Range(long stop, ScalarType dtype, Device device) => Range(0, stop, 1, dtype, device);

    // Runs operation with scalar referenced by this frame until it has returned, then frees the Scalar.
    private static Tensor Held<TState>(TState state, Scalar scalar, Func<TState, Scalar, Tensor> operation)
    {
        using (scalar)
        {
            return operation(state, scalar);
        }
    }
}
