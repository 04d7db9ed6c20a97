using static TorchSharp.torch;

namespace Bert.Sharp.Checkpoints;

/// <summary>Helpers for state dicts (name → tensor) that readers build and hand over whole, or not at all.</summary>
internal static class StateDicts
{
    /// <summary>Disposes every tensor of a state dict a reader is abandoning (a later tensor failed to read).</summary>
    /// <param name="state">The tensors read so far.</param>
    public static void Dispose(IReadOnlyDictionary<string, Tensor> state)
    {
        foreach (Tensor t in state.Values)
        {
            t.Dispose();
        }
    }
}
