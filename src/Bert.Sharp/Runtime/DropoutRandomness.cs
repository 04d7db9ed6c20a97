using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>
/// The random generator dropout draws from on the current thread. A training run sets its own (seeded from its options)
/// around every forward pass, so training is reproducible without touching torch's process-wide generator; outside a run
/// (your own loop) dropout uses torch's global generator, as <c>nn.Dropout</c> does.
/// </summary>
internal static class DropoutRandomness
{
    [ThreadStatic]
    private static Generator? current;

    /// <summary>The generator in use on this thread, or <c>null</c> for torch's global one.</summary>
    public static Generator? Current => current;

    /// <summary>Uses <paramref name="generator"/> on this thread until the result is disposed.</summary>
    public static Scope Use(Generator? generator)
    {
        Generator? previous = current;
        current = generator;
        return new Scope(previous);
    }

    /// <summary>Restores the previous generator when disposed.</summary>
    internal readonly struct Scope(Generator? previous) : IDisposable
    {
        public void Dispose() => current = previous;
    }
}
