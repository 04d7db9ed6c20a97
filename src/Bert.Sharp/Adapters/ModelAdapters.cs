using Bert.Sharp.Adapters;
using Bert.Sharp.IO;
using Bert.Sharp.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// The LoRA adapters of one task model (<see cref="BertTaskModel.Adapters"/>), with PEFT's semantics and file layout: one
/// frozen base, any number of small named adapters, each wrapping the dense layers it targets as PEFT's tuner layer does
/// (<c>W·x + scaling·B·A·x</c>) and keeping its own copy of the head (PEFT's <c>modules_to_save</c>).
/// PEFT's <c>add_adapter</c>, <c>load_adapter</c>, <c>set_adapter</c>, <c>delete_adapter</c> and <c>merge_and_unload</c> are
/// <see cref="Add"/>, <see cref="Load"/>, <see cref="Use"/>, <see cref="Delete"/> and <see cref="Merge"/>.
/// </summary>
/// <remarks>Not thread-safe: change adapters before serving. Serving chooses an adapter per call without changing <see cref="Active"/>.</remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "Owned by the model: its Dispose releases the adapters; a user never disposes them alone.")]
public sealed partial class ModelAdapters
{
    private readonly IAdapterHost host;
    private AdapterState? state;

    internal ModelAdapters(IAdapterHost host) => this.host = host;

    /// <summary>The names of the adapters (PEFT's <c>peft_config</c> keys), in the order they were added.</summary>
    public IReadOnlyList<string> Names => state is null ? [] : [.. state.Names];

    /// <summary>
    /// The adapter forward passes use (PEFT's <c>active_adapter</c>); <c>null</c> runs the base model: the encoder without
    /// adapters and the head the model had before its first adapter (PEFT's <c>original_module</c>; a newly initialised head
    /// when the base checkpoint had none). Change it with <see cref="Use"/>.
    /// </summary>
    public string? Active => state?.Active;

    /// <summary>Whether the model holds any adapter (then <c>SavePretrained</c> writes the adapter layout).</summary>
    internal bool Any => state is { Names.Count: > 0 };

    /// <summary>Makes adapter <paramref name="name"/> the one forward passes use (PEFT's <c>set_adapter</c>); <c>null</c> runs the base model.</summary>
    /// <exception cref="KeyNotFoundException">No adapter has that name.</exception>
    public void Use(string? name)
    {
        Require(name);
        if (state is not null)
        {
            state.Active = name;
        }
    }

    /// <summary>
    /// Adds a new LoRA adapter <paramref name="name"/> to the layers <paramref name="options"/> targets and makes it active:
    /// A Kaiming-uniform from <paramref name="seed"/>, B zeros, so the model computes exactly what it did before training.
    /// <see cref="FreezePolicy.LoRA(int, double, double, LoraTargets, IReadOnlyList{string}?)"/> does this for you.
    /// </summary>
    /// <exception cref="ArgumentException">The name is taken or a module to save does not exist.</exception>
    public void Add(string name, LoraOptions options, int seed = 42)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (state?.Contains(name) == true)
        {
            throw new ArgumentException($"The model has an adapter named '{name}' already.", nameof(name));
        }

        string[] stateNames = [.. host.StateDict().Keys];
        foreach (string module in options.ModulesToSave)
        {
            if (!stateNames.Any(k => k.StartsWith(module + ".", StringComparison.Ordinal)))
            {
                throw new ArgumentException($"ModulesToSave names '{module}', which is no module of this model (for example 'bert.pooler').", nameof(options));
            }
        }

        AdapterState adapters = EnsureState();
        HandOverHead(adapters);
        using var generator = new Generator((ulong)seed); // On the CPU (TorchSharp's only kind); DeviceRandom draws there and copies to the model's device.
        foreach ((string _, string local, BertLinear layer) in DenseLayers())
        {
            if ((options.Targets & PeftAdapterConfig.KindOf(local)) != LoraTargets.None)
            {
                LoraOn(layer, adapters).Add(name, options, generator);
            }
        }

        adapters.Add(name, options);
        adapters.Active = name;
    }

    /// <summary>
    /// Loads a PEFT LoRA adapter folder (<c>adapter_config.json</c>, <c>adapter_model.safetensors</c>; written by
    /// <see cref="Save"/> or by Python's <c>PeftModel.save_pretrained</c>) as adapter <paramref name="name"/> and makes it
    /// active — PEFT's <c>load_adapter</c> + <c>set_adapter</c>. The head it saved becomes this adapter's head. Every key is
    /// checked, name and shape, before anything changes.
    /// </summary>
    /// <exception cref="ArgumentException">The model has an adapter of that name already.</exception>
    /// <exception cref="FileNotFoundException">A file is missing; the message names it.</exception>
    /// <exception cref="InvalidDataException">The config or weights do not fit this model (wrong <c>peft_type</c>, rank or shape mismatch, missing or unknown key); the message names the file and key.</exception>
    public void Load(string directory, string name = "default")
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (state?.Contains(name) == true)
        {
            throw new ArgumentException($"The model has an adapter named '{name}' already; delete it first or choose another name.", nameof(name));
        }

        LoadCore(directory, name, intoExisting: false);
    }

    /// <summary>
    /// Saves adapter <paramref name="name"/> (default: the active one) in PEFT's layout: <c>adapter_config.json</c> and
    /// <c>adapter_model.safetensors</c> with PEFT's key names (<c>base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight</c>,
    /// the head as <c>base_model.model.classifier.weight</c>). Python loads it with <c>PeftModel.from_pretrained(base, folder)</c>.
    /// Additive and atomic: other files in the folder are left alone.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model has no such adapter.</exception>
    public void Save(string directory, string? name = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var writer = new ModelFolderWriter(directory);
        AddFiles(writer, directory, name);
        writer.Commit();
    }

    /// <summary>
    /// Removes adapter <paramref name="name"/> and its parameters (PEFT's <c>delete_adapter</c>). Removing the last one makes
    /// the model its base again, head included.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No adapter has that name.</exception>
    public void Delete(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        AdapterState adapters = state is not null && state.Contains(name) ? state : throw new KeyNotFoundException($"The model has no adapter '{name}'.");
        RemoveLayersOf(name);
        adapters.Remove(name);
        if (adapters.Names.Count == 0)
        {
            // The last adapter is gone: the model is its base again, with the head it had before the first adapter.
            using (no_grad())
            {
                SetHead(adapters.OriginalHead);
            }

            Release();
        }
    }

    /// <summary>
    /// Folds the active adapter into the base weights (<c>W += scaling·B·A</c>; its head becomes the model's head) and removes
    /// every adapter — PEFT's <c>merge_and_unload</c>. The result is a plain model: <c>SavePretrained</c> writes an ordinary
    /// Hugging Face folder that <see cref="TextClassifier"/>, Python and the ONNX exporter load, and serving pays nothing for
    /// the adapter.
    /// </summary>
    /// <exception cref="InvalidOperationException">No adapter is active.</exception>
    public void Merge()
    {
        AdapterState adapters = state is { Active: not null } ? state : throw new InvalidOperationException("No adapter is active; choose the one to merge with Use(name).");
        string name = adapters.Active!;
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            foreach ((string _, string _, BertLinear layer) in DenseLayers())
            {
                if (layer.Adapter is LoraLinearAdapter lora && lora.Has(name))
                {
                    layer.Weight.add_(lora.DeltaWeight(name));
                }
            }

            SetHead(adapters.HeadCopy(name));
        }

        // The merged adapter's head stays the model's head (not the one from before the adapters).
        foreach (string adapter in Names)
        {
            RemoveLayersOf(adapter);
        }

        Release();
    }

    /// <summary>
    /// Runs this thread's forward passes with adapter <paramref name="name"/> (<c>null</c>: none) until the scope is disposed,
    /// whatever <see cref="Active"/> says: how the serving classes choose an adapter per call.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No adapter has that name.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="name"/> is <c>null</c>, the model has adapters, and its own head was newly initialised at loading (predictions would be random).</exception>
    internal AdapterSelection.Scope UseOnThisThread(string? name)
    {
        Require(name);
        if (name is null && state is { Names.Count: > 0, UntrainedOriginalHeadKeys.Count: > 0 })
        {
            throw new InvalidOperationException(
                $"Predicting without an adapter runs the base model, whose head was newly initialised when it was loaded (its checkpoint had no {string.Join(", ", state.UntrainedOriginalHeadKeys)}), " +
                $"so its predictions would be random. Name one of the adapters: {string.Join(", ", Names)}.");
        }

        return AdapterSelection.Use(name);
    }

    /// <summary>Converts the head copies the adapters keep (the model moved to another device or type).</summary>
    internal void ConvertHeads(Func<Tensor, Tensor> convert) => state?.ConvertHeads(convert);

    /// <summary>Drops every adapter's bookkeeping (the model is disposed, or its last adapter is gone).</summary>
    internal void Release()
    {
        host.AttachHeadTo(null);
        state?.Dispose();
        state = null;
    }

    private void Require(string? name)
    {
        if (name is not null && state?.Contains(name) != true)
        {
            throw new KeyNotFoundException($"The model has no adapter '{name}' (it has: {string.Join(", ", Names.DefaultIfEmpty("none"))}).");
        }
    }

    // Every dense layer of the encoder layers: its state-dict path (bert.encoder.layer.3.attention.self.query), its name inside
    // the layer (attention.self.query) and the layer.
    private IEnumerable<(string Path, string Local, BertLinear Layer)> DenseLayers()
    {
        BertModel encoder = host.Encoder;
        for (int i = 0; i < encoder.Layers.Count; i++)
        {
            foreach ((string local, BertLinear layer) in encoder.Layers[i].DenseLayers())
            {
                yield return ($"{encoder.Family.BasePrefix}.{encoder.Family.LayerName(i)}.{local}", local, layer);
            }
        }
    }

    private AdapterState EnsureState()
    {
        if (state is null)
        {
            state = new AdapterState();
            if (host.AdapterHead is { } head)
            {
                // PEFT's original_module: what the model computes without adapters, whatever the adapters' heads learn later.
                state.OriginalHead = CopyOf(head);
                HashSet<string> headKeys = [.. head.named_parameters().Select(p => host.AdapterHeadKey(p.name))];
                state.UntrainedOriginalHeadKeys = [.. host.KeysMissingAtLoad.Where(headKeys.Contains)];
            }

            host.AttachHeadTo(state);
        }

        return state;
    }

    // The head's parameters, cloned; kept out of the caller's dispose scope (they live as long as the adapters).
    private static Dictionary<string, Tensor> CopyOf(nn.Module head) =>
        head.named_parameters().ToDictionary(p => p.name, p => Runtime.TensorCopy.Detached(p.parameter), StringComparer.Ordinal);

    private void RemoveLayersOf(string name)
    {
        foreach ((string _, string _, BertLinear layer) in DenseLayers())
        {
            if (layer.Adapter is LoraLinearAdapter lora)
            {
                lora.Remove(name);
                if (lora.IsEmpty)
                {
                    layer.Detach();
                    lora.Dispose();
                }
            }
        }
    }

    // Copies head parameters kept aside (an adapter's head, the original head) into the model's head; nothing for null. Under no_grad.
    private void SetHead(IReadOnlyDictionary<string, Tensor>? values)
    {
        if (values is not null && host.AdapterHead is { } head)
        {
            foreach ((string local, Parameter p) in head.named_parameters())
            {
                p.copy_(values[local]);
            }
        }
    }

    private static LoraLinearAdapter LoraOn(BertLinear layer, AdapterState adapters)
    {
        if (layer.Adapter is LoraLinearAdapter existing)
        {
            return existing;
        }

        var lora = new LoraLinearAdapter(adapters);
        layer.Attach(lora);
        return lora;
    }

    // The adapter added last owns the model's head parameters; the ones before it keep copies of their heads (PEFT's
    // modules_to_save), so adding one never changes what the others compute.
    private void HandOverHead(AdapterState adapters)
    {
        if (host.AdapterHead is not { } head)
        {
            return;
        }

        foreach (string owner in adapters.Names.Where(n => adapters.HeadCopy(n) is null).ToList())
        {
            adapters.SetHeadCopy(owner, CopyOf(head));
        }
    }
}
