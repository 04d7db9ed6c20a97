using System.Runtime.CompilerServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>
/// Remembers the modules whose initial weights were drawn from torch's process-wide generator — a model built from a
/// config (<c>new BertModel(config)</c>, <c>new BertForSequenceClassification(config, labels)</c>) and a new head on a
/// base checkpoint loaded without <c>ClassifierLoadOptions.Seed</c> — with a fingerprint of those values. A training run
/// redraws every such module that still holds exactly those values from its own seed before the first step, so the same
/// <c>FineTuningOptions.Seed</c> gives the same run however the model was created (issue 21 row 12: three runs with the
/// same seed gave three different losses, because the head came from whatever the global generator held).
/// </summary>
/// <remarks>
/// A module whose weights were loaded, trained, converted to another dtype or set by hand since no longer matches its
/// fingerprint and is left alone. The fingerprint samples up to 256 evenly spaced values of every parameter (exactly, as
/// float32 bits), which any load or training step changes.
/// </remarks>
internal static class UnseededInitialization
{
    private const int SampledValues = 256;
    private static readonly ConditionalWeakTable<nn.Module, Entry> Registry = [];

    /// <summary>Records that <paramref name="module"/> was just initialised from the global generator; <paramref name="redraw"/> initialises it again from a given one.</summary>
    /// <param name="module">The module.</param>
    /// <param name="salt">Mixed into the run's seed, so that different kinds of module draw different values.</param>
    /// <param name="redraw">Draws the module's initial weights from the generator it is given.</param>
    public static void Register(nn.Module module, ulong salt, Action<Generator> redraw) =>
        Registry.AddOrUpdate(module, new Entry(salt, redraw, Fingerprint(module)));

    /// <summary>Forgets <paramref name="module"/>: its weights were initialised from a seed.</summary>
    public static void Forget(nn.Module module) => Registry.Remove(module);

    /// <summary>
    /// Redraws, from generators seeded with <paramref name="seed"/> (and each module's salt), every module of
    /// <paramref name="root"/> that still holds the weights it got from the global generator; returns their names.
    /// </summary>
    public static IReadOnlyList<string> RedrawUntouched(nn.Module root, int seed)
    {
        var redrawn = new List<string>();
        var seen = new HashSet<nn.Module>(ReferenceEqualityComparer.Instance);
        foreach ((string name, nn.Module module) in root.named_modules().Prepend((string.Empty, root)))
        {
            if (!seen.Add(module) || !Registry.TryGetValue(module, out Entry? entry))
            {
                continue;
            }

            if (Fingerprint(module) != entry.Fingerprint)
            {
                Registry.Remove(module); // loaded, trained or set since: not ours to redraw, now or later
                continue;
            }

            using (var generator = new Generator(unchecked((ulong)seed + entry.Salt)))
            {
                entry.Redraw(generator);
            }

            Registry.Remove(module);
            redrawn.Add(name.Length == 0 ? module.GetName() : name);
        }

        return redrawn;
    }

    private static int Fingerprint(nn.Module module)
    {
        var hash = new HashCode();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach ((string name, Parameter p) in module.named_parameters())
        {
            hash.Add(name);
            Tensor flat = p.detach().reshape(-1);
            long n = flat.numel();
            hash.Add(n);
            if (n == 0)
            {
                continue;
            }

            Tensor sampled = n <= SampledValues ? flat : flat.index_select(0, linspace(0, n - 1, SampledValues, ScalarType.Float64, flat.device).to(ScalarType.Int64));
            Tensor host = sampled.to(ScalarType.Float32, CPU).contiguous();
            hash.AddBytes(host.bytes);
        }

        return hash.ToHashCode();
    }

    private sealed record Entry(ulong Salt, Action<Generator> Redraw, int Fingerprint);
}
