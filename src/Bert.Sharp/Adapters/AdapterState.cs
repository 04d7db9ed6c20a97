using static TorchSharp.torch;

namespace Bert.Sharp.Adapters;

/// <summary>
/// The LoRA adapters of one model: their settings, which one is active, and the heads of adapters loaded after the first
/// (PEFT's <c>modules_to_save</c> copies). Every <see cref="LoraLinearAdapter"/> of the model reads the active name from here,
/// so switching is one assignment; a call can override it for its own thread (<see cref="AdapterSelection"/>).
/// </summary>
internal sealed class AdapterState : IDisposable
{
    private readonly Dictionary<string, LoraOptions> adapters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, Tensor>> headCopies = new(StringComparer.Ordinal);

    /// <summary>The adapter used when a call does not choose one; <c>null</c> runs the base model.</summary>
    public string? Active { get; set; }

    public IReadOnlyCollection<string> Names => adapters.Keys;

    /// <summary>The adapter a forward on this thread uses now.</summary>
    public string? Current => AdapterSelection.TryGetOverride(out string? chosen) ? chosen : Active;

    public bool Contains(string name) => adapters.ContainsKey(name);

    public LoraOptions Options(string name) => adapters[name];

    public void Add(string name, LoraOptions options) => adapters.Add(name, options);

    public void Remove(string name)
    {
        adapters.Remove(name);
        if (headCopies.Remove(name, out Dictionary<string, Tensor>? copy))
        {
            foreach (Tensor t in copy.Values)
            {
                t.Dispose();
            }
        }

        if (Active == name)
        {
            Active = null;
        }
    }

    /// <summary>The head parameters (by local name, <c>weight</c>, <c>bias</c>) adapter <paramref name="name"/> brought, or <c>null</c> when it uses the model's own head.</summary>
    public IReadOnlyDictionary<string, Tensor>? HeadCopy(string? name) => name is not null && headCopies.TryGetValue(name, out Dictionary<string, Tensor>? copy) ? copy : null;

    public void SetHeadCopy(string name, Dictionary<string, Tensor> copy) => headCopies[name] = copy;

    public void Dispose()
    {
        foreach (string name in headCopies.Keys.ToList())
        {
            Remove(name);
        }
    }
}
