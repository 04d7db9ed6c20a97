using Bert.Sharp.Adapters;
using Bert.Sharp.Checkpoints;
using Bert.Sharp.IO;
using Bert.Sharp.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp;

// LoRA adapters (PEFT's semantics and file layout): one frozen base, any number of small named adapters.
public abstract partial class BertTaskModel
{
    private AdapterState? adapters;

    /// <summary>
    /// Where the base model comes from (a folder or hub id), written to an adapter's <c>adapter_config.json</c> as
    /// <c>base_model_name_or_path</c>. Set by <c>FromPretrained</c>; set it yourself for a model built in code.
    /// </summary>
    public string? BaseModelNameOrPath { get; set; }

    /// <summary>
    /// What loading matched: the keys the checkpoint did not hold (a new head on a base checkpoint: <c>classifier.weight</c>,
    /// <c>classifier.bias</c>) and the keys it held that the model does not use (a token classifier ignores a base
    /// checkpoint's pooler). <c>null</c> for a model built in code.
    /// </summary>
    public LoadReport? LoadReport { get; internal set; }

    /// <summary>The names of the LoRA adapters the model holds (PEFT's <c>peft_config</c> keys), in the order they were added.</summary>
    public IReadOnlyList<string> AdapterNames => adapters is null ? [] : [.. adapters.Names];

    /// <summary>
    /// The adapter forward passes use (PEFT's <c>set_adapter</c>); <c>null</c> runs the base model: the encoder without adapters
    /// and the head the model had before its first adapter (PEFT's <c>original_module</c>; a newly initialised head when the base
    /// checkpoint had none). Serving code can choose per call instead (<see cref="TextClassifier.PredictBatch(IReadOnlyList{string}, string?)"/>).
    /// </summary>
    /// <exception cref="KeyNotFoundException">No adapter has that name.</exception>
    public string? ActiveAdapter
    {
        get => adapters?.Active;
        set
        {
            RequireAdapter(value);
            if (adapters is not null)
            {
                adapters.Active = value;
            }
        }
    }

    /// <summary>
    /// Runs this thread's forward passes with adapter <paramref name="name"/> (<c>null</c>: none) until the scope is disposed,
    /// whatever <see cref="ActiveAdapter"/> says: how the serving classes choose an adapter per call.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No adapter has that name.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="name"/> is <c>null</c>, the model has adapters, and its own head was newly initialised at loading (predictions would be random).</exception>
    internal Adapters.AdapterSelection.Scope UseAdapterOnThisThread(string? name)
    {
        RequireAdapter(name);
        if (name is null && adapters is { Names.Count: > 0, UntrainedOriginalHeadKeys.Count: > 0 })
        {
            throw new InvalidOperationException(
                $"Predicting without an adapter runs the base model, whose head was newly initialised when it was loaded (its checkpoint had no {string.Join(", ", adapters.UntrainedOriginalHeadKeys)}), " +
                $"so its predictions would be random. Name one of the adapters: {string.Join(", ", AdapterNames)}.");
        }

        return Adapters.AdapterSelection.Use(name);
    }

    private void RequireAdapter(string? name)
    {
        if (name is not null && adapters?.Contains(name) != true)
        {
            throw new KeyNotFoundException($"The model has no adapter '{name}' (it has: {string.Join(", ", AdapterNames.DefaultIfEmpty("none"))}).");
        }
    }

    /// <summary>
    /// Adds a new LoRA adapter <paramref name="name"/> to the layers <paramref name="options"/> targets and makes it active:
    /// A Kaiming-uniform from <paramref name="seed"/>, B zeros, so the model computes exactly what it did before training.
    /// <see cref="FreezePolicy.LoRA(int, double, double, LoraTargets, IReadOnlyList{string}?)"/> does this for you.
    /// </summary>
    /// <exception cref="ArgumentException">The name is taken or a module to save does not exist.</exception>
    public void AddAdapter(string name, LoraOptions options, int seed = 42)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (adapters?.Contains(name) == true)
        {
            throw new ArgumentException($"The model has an adapter named '{name}' already.", nameof(name));
        }

        string[] stateNames = [.. state_dict().Keys];
        foreach (string module in options.ModulesToSave)
        {
            if (!stateNames.Any(k => k.StartsWith(module + ".", StringComparison.Ordinal)))
            {
                throw new ArgumentException($"ModulesToSave names '{module}', which is no module of this model (for example 'bert.pooler').", nameof(options));
            }
        }

        AdapterState state = EnsureAdapterState();
        HandOverHead();
        using var generator = new Generator((ulong)seed); // On the CPU (TorchSharp's only kind); DeviceRandom draws there and copies to the model's device.
        foreach ((string _, string local, BertLinear layer) in DenseLayers())
        {
            if (options.Targets.HasFlag(PeftAdapterConfig.KindOf(local)) && PeftAdapterConfig.KindOf(local) != LoraTargets.None)
            {
                LoraOn(layer, state).Add(name, options, generator);
            }
        }

        state.Add(name, options);
        state.Active = name;
    }

    /// <summary>
    /// Loads a PEFT LoRA adapter folder (<c>adapter_config.json</c>, <c>adapter_model.safetensors</c>; written by
    /// <see cref="SaveAdapter"/> or by Python's <c>PeftModel.save_pretrained</c>) as adapter <paramref name="adapterName"/>
    /// and makes it active — PEFT's <c>load_adapter</c> + <c>set_adapter</c>. The head it saved becomes this adapter's head.
    /// </summary>
    /// <exception cref="FileNotFoundException">A file is missing; the message names it.</exception>
    /// <exception cref="InvalidDataException">The config or weights do not fit this model (wrong <c>peft_type</c>, rank or shape mismatch, missing or unknown key); the message names the file and key.</exception>
    public void LoadAdapter(string directory, string adapterName = "default")
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrWhiteSpace(adapterName);
        if (adapters?.Contains(adapterName) == true)
        {
            throw new ArgumentException($"The model has an adapter named '{adapterName}' already; delete it first or choose another name.", nameof(adapterName));
        }

        LoadAdapterCore(directory, adapterName, intoExisting: false);
    }

    /// <summary>
    /// Saves adapter <paramref name="adapterName"/> (default: the active one) in PEFT's layout: <c>adapter_config.json</c> and
    /// <c>adapter_model.safetensors</c> with PEFT's key names (<c>base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight</c>,
    /// the head as <c>base_model.model.classifier.weight</c>). Python loads it with <c>PeftModel.from_pretrained(base, folder)</c>.
    /// Additive and atomic: other files in the folder are left alone.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model has no such adapter.</exception>
    public void SaveAdapter(string directory, string? adapterName = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var writer = new ModelFolderWriter(directory);
        AddAdapterFiles(writer, directory, adapterName);
        writer.Commit();
    }

    /// <summary>
    /// Removes adapter <paramref name="name"/> and its parameters (PEFT's <c>delete_adapter</c>). Removing the last one makes
    /// the model its base again, head included.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No adapter has that name.</exception>
    public void DeleteAdapter(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        AdapterState state = adapters is not null && adapters.Contains(name) ? adapters : throw new KeyNotFoundException($"The model has no adapter '{name}'.");
        RemoveAdapterLayers(name);
        state.Remove(name);
        if (state.Names.Count == 0)
        {
            // The last adapter is gone: the model is its base again, with the head it had before the first adapter.
            using (no_grad())
            {
                SetHead(state.OriginalHead);
            }

            DropAdapterState();
        }
    }

    /// <summary>
    /// Folds the active adapter into the base weights (<c>W += scaling·B·A</c>; its head becomes the model's head) and removes
    /// every adapter — PEFT's <c>merge_and_unload</c>. The result is a plain model: <c>SavePretrained</c> writes an ordinary
    /// Hugging Face folder that <see cref="TextClassifier"/>, Python and the ONNX exporter load, and serving pays nothing for
    /// the adapter.
    /// </summary>
    /// <exception cref="InvalidOperationException">No adapter is active.</exception>
    public void MergeAdapters()
    {
        string name = adapters?.Active ?? throw new InvalidOperationException("No adapter is active; set ActiveAdapter to the one to merge.");
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
        foreach (string adapter in AdapterNames)
        {
            RemoveAdapterLayers(adapter);
        }

        DropAdapterState();
    }

    // Every dense layer of the encoder layers: its state-dict path (bert.encoder.layer.3.attention.self.query), its name inside
    // the layer (attention.self.query) and the layer.
    private IEnumerable<(string Path, string Local, BertLinear Layer)> DenseLayers()
    {
        for (int i = 0; i < Bert.Layers.Count; i++)
        {
            foreach ((string local, BertLinear layer) in Bert.Layers[i].DenseLayers())
            {
                yield return ($"{Bert.Family.BasePrefix}.{Bert.Family.LayerName(i)}.{local}", local, layer);
            }
        }
    }

    private AdapterState EnsureAdapterState()
    {
        if (adapters is null)
        {
            if (Bert.Family.LayerLayout == EncoderLayerLayout.ModernBert)
            {
                throw new NotSupportedException($"Adapters (LoRA) on a {Bert.Family.ModelType} model are not supported yet: its attention projections (attn.Wqkv, attn.Wo) have no LoRA targets in this library; fine-tune it with FullFineTuning or a freeze policy.");
            }

            if (HeadModule is FamilySequenceHead { Layout: SequenceHeadLayout.PreClassifierRelu })
            {
                throw new NotSupportedException($"Adapters on a {Bert.Family.ModelType} sequence classifier are not supported yet (its head spans two top-level modules, pre_classifier and classifier); LoRA works on BERT and RoBERTa / XLM-R classifiers and on token classifiers and embedders of every family.");
            }

            adapters = new AdapterState();
            if (HeadModule is { } head)
            {
                // PEFT's original_module: what the model computes without adapters, whatever the adapters' heads learn later.
                adapters.OriginalHead = CopyOf(head);
                string prefix = HeadName + ".";
                adapters.UntrainedOriginalHeadKeys = [.. LoadReport?.MissingKeys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)) ?? []];
            }

            SetHeadAdapters(adapters);
        }

        return adapters;
    }

    // The head's parameters, cloned; kept out of the caller's dispose scope (they live as long as the adapters).
    private static Dictionary<string, Tensor> CopyOf(nn.Module head) =>
        head.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone().DetachFromDisposeScope(), StringComparer.Ordinal);

    /// <inheritdoc />
    protected override nn.Module _to(Device device, ScalarType dtype, bool non_blocking)
    {
        nn.Module moved = base._to(device, dtype, non_blocking);
        adapters?.ConvertHeads(t => t.to(dtype, device));
        return moved;
    }

    /// <inheritdoc />
    protected override nn.Module _to(DeviceType deviceType, int deviceIndex, bool non_blocking)
    {
        nn.Module moved = base._to(deviceType, deviceIndex, non_blocking);
        adapters?.ConvertHeads(t => t.to(deviceType, deviceIndex));
        return moved;
    }

    /// <inheritdoc />
    protected override nn.Module _to(ScalarType dtype, bool non_blocking)
    {
        nn.Module moved = base._to(dtype, non_blocking);
        adapters?.ConvertHeads(t => t.to(dtype));
        return moved;
    }

    private void RemoveAdapterLayers(string name)
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

    private void DropAdapterState()
    {
        SetHeadAdapters(null);
        adapters?.Dispose();
        adapters = null;
    }

    // Copies head parameters kept aside (an adapter's head, the original head) into the model's head; nothing for null. Under no_grad.
    private void SetHead(IReadOnlyDictionary<string, Tensor>? values)
    {
        if (values is not null && HeadModule is { } head)
        {
            foreach ((string local, Parameter p) in head.named_parameters())
            {
                p.copy_(values[local]);
            }
        }
    }

    private void SetHeadAdapters(AdapterState? state)
    {
        if (HeadModule is ClassificationHead head)
        {
            head.Adapters = state;
        }
        else if (HeadModule is FamilySequenceHead familyHead)
        {
            familyHead.Adapters = state;
        }
    }

    private static LoraLinearAdapter LoraOn(BertLinear layer, AdapterState state)
    {
        if (layer.Adapter is LoraLinearAdapter existing)
        {
            return existing;
        }

        var lora = new LoraLinearAdapter(state);
        layer.Attach(lora);
        return lora;
    }

    // The adapter added last owns the model's head parameters; the ones before it keep copies of their heads (PEFT's
    // modules_to_save), so adding one never changes what the others compute.
    private void HandOverHead()
    {
        if (adapters is null || HeadModule is not { } head)
        {
            return;
        }

        foreach (string owner in adapters.Names.Where(n => adapters.HeadCopy(n) is null).ToList())
        {
            adapters.SetHeadCopy(owner, CopyOf(head));
        }
    }
}
