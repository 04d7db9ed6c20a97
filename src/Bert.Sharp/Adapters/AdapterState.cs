using static TorchSharp.torch;

namespace Bert.Sharp.Adapters;

/// <summary>
/// The LoRA adapters of one model: their settings, which one is active, the heads of adapters loaded after the first
/// (PEFT's <c>modules_to_save</c> copies) and the head the model had before any adapter (PEFT's <c>original_module</c>).
/// Every <see cref="LoraLinearAdapter"/> of the model reads the active name from here, so switching is one assignment; a
/// call can override it for its own thread (<see cref="AdapterSelection"/>).
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

    /// <summary>
    /// The head parameters (by local name, <c>weight</c>, <c>bias</c>) adapter <paramref name="name"/> brought, or <c>null</c>
    /// when it uses the model's own head; for <paramref name="name"/> <c>null</c> (no adapter) the head the model had before
    /// its first adapter.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor>? HeadCopy(string? name) =>
        name is null ? OriginalHead : headCopies.TryGetValue(name, out Dictionary<string, Tensor>? copy) ? copy : null;

    /// <summary>
    /// A copy of the model's head taken when the first adapter arrived (PEFT's <c>original_module</c>): what a forward without
    /// adapter uses, so adding or training adapters never changes what the base model computes. <c>null</c> for a task without head.
    /// </summary>
    public Dictionary<string, Tensor>? OriginalHead { get; set; }

    /// <summary>
    /// The parameter names of <see cref="OriginalHead"/> when that head was newly initialised at loading (its checkpoint had
    /// none), so the base model's predictions are meaningless; empty otherwise.
    /// </summary>
    public IReadOnlyList<string> UntrainedOriginalHeadKeys { get; set; } = [];

    public void SetHeadCopy(string name, Dictionary<string, Tensor> copy) => headCopies[name] = copy;

    /// <summary>
    /// Replaces every head tensor (the adapters' copies and <see cref="OriginalHead"/>) by <paramref name="convert"/>'s result:
    /// how they follow the model to another device or dtype, since they are plain tensors, not parameters.
    /// </summary>
    public void ConvertHeads(Func<Tensor, Tensor> convert)
    {
        IEnumerable<Dictionary<string, Tensor>> heads = OriginalHead is null ? headCopies.Values : headCopies.Values.Append(OriginalHead);
        foreach (Dictionary<string, Tensor> head in heads)
        {
            foreach (string key in head.Keys.ToList())
            {
                Tensor old = head[key];
                Tensor converted = convert(old);
                if (!ReferenceEquals(converted, old))
                {
                    head[key] = converted.DetachFromDisposeScope();
                    old.Dispose();
                }
            }
        }
    }

    public void Dispose()
    {
        foreach (string name in headCopies.Keys.ToList())
        {
            Remove(name);
        }

        foreach (Tensor t in OriginalHead?.Values ?? Enumerable.Empty<Tensor>())
        {
            t.Dispose();
        }

        OriginalHead = null;
    }
}
