using Bert.Sharp.Adapters;
using Bert.Sharp.Checkpoints;
using Bert.Sharp.IO;
using Bert.Sharp.Modeling;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp;

// PEFT's adapter layout: reading it into this model (every key checked, name and shape, before anything changes) and writing it.
public abstract partial class BertTaskModel
{
    /// <summary>
    /// Opens a PEFT adapter folder as a model: the base it names (resolved, a chain of adapter folders refused) is loaded with
    /// <paramref name="loadBase"/> (the task's loader, given the task facts the folder records), then the adapter.
    /// </summary>
    /// <param name="directory">The adapter folder.</param>
    /// <param name="hub">Hub settings for resolving the base.</param>
    /// <param name="loadBase">The task's <c>FromPretrained</c> on the resolved base.</param>
    private protected static TModel FromAdapterFolder<TModel>(string directory, PretrainedResolveOptions? hub, Func<string, TModel> loadBase)
        where TModel : BertTaskModel
    {
        string baseModel = AdapterFolder.BaseOf(directory);
        string resolvedBase = AdapterFolder.ResolveBase(directory, hub);
        TModel model = AdapterFolder.LoadBase(directory, resolvedBase, loadBase);
        return WithAdapterFolder(model, directory, baseModel);
    }

    /// <summary>The keys of the head's parameters (<c>classifier.weight</c>, ...); none for a task without a head.</summary>
    private protected string[] HeadKeys() => HeadModule is { } head ? [.. head.named_parameters().Select(p => $"{HeadName}.{p.name}")] : [];

    /// <summary>
    /// Finishes opening a PEFT adapter folder as a model: <paramref name="model"/> was just loaded from the base the folder
    /// names (<paramref name="baseModel"/>); the adapter is loaded into it, its head replaces the new one (so the head's keys
    /// no longer count as missing) and the base is recorded. The model is disposed when the adapter does not load.
    /// </summary>
    private static TModel WithAdapterFolder<TModel>(TModel model, string directory, string baseModel)
        where TModel : BertTaskModel
    {
        try
        {
            model.LoadAdapter(directory);
            HashSet<string> headKeys = [.. model.HeadKeys()];
            model.LoadReport = model.LoadReport is { } report ? report with { MissingKeys = [.. report.MissingKeys.Where(k => !headKeys.Contains(k))] } : null;
            model.BaseModelNameOrPath = baseModel;
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private void LoadAdapterCore(string directory, string name, bool intoExisting)
    {
        PeftAdapterConfig config = PeftAdapterConfig.Read(directory);
        string configPath = Path.Combine(directory, PeftAdapterConfig.FileName);
        if (config.TaskType.Length > 0 && config.TaskType != PeftTaskType)
        {
            throw new InvalidDataException($"'{configPath}': key 'task_type' is '{config.TaskType}' but this model is a {PeftTaskType} model.");
        }

        string path = Path.Combine(directory, PeftAdapterConfig.WeightsFileName);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Adapter folder '{directory}' has no {PeftAdapterConfig.WeightsFileName} (adapter_model.bin is not read; save it with safetensors).", path);
        }

        Dictionary<string, Tensor> file = SafeTensors.Load(path);
        try
        {
            var assignments = new List<(Tensor Target, Tensor Value)>();
            var used = new HashSet<string>(StringComparer.Ordinal);
            var layers = new List<(BertLinear Layer, Tensor A, Tensor B)>();
            LoraTargets kinds = LoraTargets.None;
            foreach ((string modulePath, string local, BertLinear layer) in DenseLayers())
            {
                string peftPath = PeftModulePath(modulePath);
                if (!config.Targets(peftPath))
                {
                    continue;
                }

                string aKey = $"{PeftAdapterConfig.KeyPrefix}{peftPath}.lora_A.weight";
                string bKey = $"{PeftAdapterConfig.KeyPrefix}{peftPath}.lora_B.weight";
                Tensor a = Take(file, aKey, [config.Rank, layer.InFeatures], path, used);
                Tensor b = Take(file, bKey, [layer.OutFeatures, config.Rank], path, used);
                layers.Add((layer, a, b));
                kinds |= PeftAdapterConfig.KindOf(local);
            }

            if (layers.Count == 0)
            {
                throw new InvalidDataException($"'{configPath}': key 'target_modules' ({config.TargetModules.ToJsonString()}) matches no dense layer of this model.");
            }

            var headValues = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            if (HeadModule is { } head)
            {
                foreach ((string local, Parameter p) in head.named_parameters())
                {
                    headValues[local] = Take(file, $"{PeftAdapterConfig.KeyPrefix}{PeftModulePath(HeadName)}.{local}", p.shape, path, used);
                }
            }

            var extras = new List<string>();
            Dictionary<string, Tensor> own = state_dict();
            foreach (string module in config.ModulesToSave.Where(m => m != PeftModulePath(HeadName) && m != "score"))
            {
                string prefix = PeftAdapterConfig.KeyPrefix + module + ".";
                foreach (string key in file.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList())
                {
                    string ours = own.Keys.FirstOrDefault(k => PeftAdapterConfig.KeyPrefix + PeftModulePath(k) == key)
                        ?? throw new InvalidDataException($"'{path}': key '{key}' (modules_to_save '{module}') is no parameter of this model.");
                    assignments.Add((own[ours], Take(file, key, own[ours].shape, path, used)));
                    extras.Add(ours[..^(key.Length - prefix.Length + 1)]);
                }
            }

            string? unexpected = file.Keys.FirstOrDefault(k => !used.Contains(k));
            if (unexpected is not null)
            {
                throw new InvalidDataException($"'{path}': key '{unexpected}' belongs to no targeted layer or saved module of this model (target_modules {config.TargetModules.ToJsonString()}, modules_to_save [{string.Join(", ", config.ModulesToSave)}]).");
            }

            if (!intoExisting && extras.Count > 0 && HasAdapters)
            {
                throw new NotSupportedException($"'{configPath}' saves modules besides the head ({string.Join(", ", extras.Distinct())}); such an adapter can only be loaded into a model without other adapters.");
            }

            Apply(name, config.ToOptions(kinds, [.. extras.Distinct()]), layers, headValues, assignments, intoExisting, directory);
        }
        finally
        {
            foreach (Tensor t in file.Values)
            {
                t.Dispose();
            }
        }
    }

    private void Apply(string name, LoraOptions options, List<(BertLinear Layer, Tensor A, Tensor B)> layers, Dictionary<string, Tensor> headValues, List<(Tensor Target, Tensor Value)> assignments, bool intoExisting, string directory)
    {
        AdapterState state = EnsureAdapterState();
        if (intoExisting)
        {
            if (!state.Contains(name) || layers.Any(l => l.Layer.Adapter is not LoraLinearAdapter lora || !lora.Has(name)))
            {
                throw new InvalidDataException($"Adapter folder '{directory}' targets other layers than the model's adapter '{name}'.");
            }
        }
        else
        {
            HandOverHead();
            using var generator = new Generator(0); // On the CPU (TorchSharp's only kind); DeviceRandom draws there and copies to the model's device.
            foreach ((BertLinear layer, Tensor _, Tensor _) in layers)
            {
                LoraOn(layer, state).Add(name, options, generator);
            }

            state.Add(name, options);
        }

        using (no_grad())
        {
            foreach ((BertLinear layer, Tensor a, Tensor b) in layers)
            {
                var lora = (LoraLinearAdapter)layer.Adapter!;
                lora.A(name).Weight.copy_(a);
                lora.B(name).Weight.copy_(b);
            }

            if (HeadModule is { } head)
            {
                IReadOnlyDictionary<string, Tensor>? copy = state.HeadCopy(name);
                foreach ((string local, Parameter p) in head.named_parameters())
                {
                    (copy?[local] ?? p).copy_(headValues[local]);
                }
            }

            foreach ((Tensor target, Tensor value) in assignments)
            {
                target.copy_(value);
            }
        }

        state.Active = name;
    }

    private static Tensor Take(Dictionary<string, Tensor> file, string key, long[] shape, string path, HashSet<string> used)
    {
        if (!file.TryGetValue(key, out Tensor? value))
        {
            throw new InvalidDataException($"'{path}' has no key '{key}'.");
        }

        if (!value.shape.SequenceEqual(shape))
        {
            throw new InvalidDataException($"'{path}': key '{key}' has shape [{string.Join(", ", value.shape)}], expected [{string.Join(", ", shape)}] (check 'r' in adapter_config.json and the base model).");
        }

        used.Add(key);
        return value;
    }

    /// <summary>The Transformers module path of <paramref name="name"/> (a name in this model's state dict) inside PEFT's <c>base_model.model</c>.</summary>
    private protected virtual string PeftModulePath(string name) => name;

    /// <summary>PEFT's <c>task_type</c> for this task (<c>SEQ_CLS</c>, <c>TOKEN_CLS</c>, <c>FEATURE_EXTRACTION</c>); empty for a task of your own (PEFT loads it as a plain <c>PeftModel</c>).</summary>
    private protected virtual string PeftTaskType => string.Empty;

    /// <summary>What the adapter's weights file records besides tensors (labels, pooling), so the folder alone rebuilds the task.</summary>
    private protected virtual Dictionary<string, string> AdapterMetadata() => [];

    /// <summary>Whether the model holds adapters (then <c>SavePretrained</c> writes the adapter layout).</summary>
    internal bool HasAdapters => adapters is { Names.Count: > 0 };

    /// <summary>Whether <paramref name="directory"/> is a PEFT adapter folder (<c>adapter_config.json</c>) rather than a full model.</summary>
    internal static bool IsAdapterFolder(string directory) => File.Exists(Path.Combine(directory, PeftAdapterConfig.FileName));

    /// <summary>Reloads the weights of the existing adapter of the same name (resume, best model) from <paramref name="directory"/>.</summary>
    internal void ReloadActiveAdapter(string directory) =>
        LoadAdapterCore(directory, adapters?.Active ?? throw new InvalidOperationException($"'{directory}' is an adapter folder but the model has no active adapter to load it into."), intoExisting: true);

    /// <summary>Adds the adapter files of <paramref name="adapterName"/> (default: the active one) to a folder save.</summary>
    internal void AddAdapterFiles(ModelFolderWriter writer, string directory, string? adapterName)
    {
        string name = adapterName ?? adapters?.Active ?? (AdapterNames.Count == 1 ? AdapterNames[0] : throw new InvalidOperationException("The model has no active adapter to save; name one."));
        AdapterState state = adapters is not null && adapters.Contains(name) ? adapters : throw new InvalidOperationException($"The model has no adapter '{name}' to save.");
        LoraOptions options = state.Options(name);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach ((string path, string _, BertLinear layer) in DenseLayers())
        {
            if (layer.Adapter is LoraLinearAdapter lora && lora.Has(name))
            {
                tensors[$"{PeftAdapterConfig.KeyPrefix}{PeftModulePath(path)}.lora_A.weight"] = lora.A(name).Weight.detach();
                tensors[$"{PeftAdapterConfig.KeyPrefix}{PeftModulePath(path)}.lora_B.weight"] = lora.B(name).Weight.detach();
            }
        }

        if (HeadModule is { } head)
        {
            IReadOnlyDictionary<string, Tensor>? copy = state.HeadCopy(name);
            foreach ((string local, Parameter p) in head.named_parameters())
            {
                tensors[$"{PeftAdapterConfig.KeyPrefix}{PeftModulePath(HeadName)}.{local}"] = (copy?[local] ?? p).detach();
            }
        }

        foreach ((string key, Tensor value) in state_dict().Where(kv => options.ModulesToSave.Any(m => kv.Key.StartsWith(m + ".", StringComparison.Ordinal))))
        {
            tensors[PeftAdapterConfig.KeyPrefix + PeftModulePath(key)] = value;
        }

        string[] modules = [.. (HeadModule is null ? [] : new[] { HeadName }).Concat(options.ModulesToSave.Select(PeftModulePath))];
        var config = new PeftAdapterConfig(PeftTaskType, options.Rank, options.Alpha, options.Dropout, options.UseRsLora, PeftAdapterConfig.TargetModulesFor(options.Targets, Bert.Family.LayerLayout), modules, BaseModelNameOrPath);
        Dictionary<string, string> metadata = AdapterMetadata();
        writer.Add(PeftAdapterConfig.WeightsFileName, stream => SafeTensors.Write(stream, tensors, metadata, Path.Combine(directory, PeftAdapterConfig.WeightsFileName)));
        writer.AddText(PeftAdapterConfig.FileName, config.ToJson());
    }
}
