using Bert.Sharp.Adapters;
using Bert.Sharp.Checkpoints;
using Bert.Sharp.IO;
using Bert.Sharp.Modeling;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp;

// PEFT's adapter layout: reading it into the model (every key checked, name and shape, before anything changes) and writing it.
public sealed partial class ModelAdapters
{
    /// <summary>Reloads the weights of the active adapter from <paramref name="directory"/> (resume, best model): the same layers, new values.</summary>
    internal void ReloadActive(string directory) =>
        LoadCore(directory, state?.Active ?? throw new InvalidOperationException($"'{directory}' is an adapter folder but the model has no active adapter to load it into."), intoExisting: true);

    /// <summary>Adds the adapter files of <paramref name="name"/> (default: the active one) to a folder save.</summary>
    internal void AddFiles(ModelFolderWriter writer, string directory, string? name)
    {
        name ??= state?.Active ?? (Names.Count == 1 ? Names[0] : throw new InvalidOperationException("The model has no active adapter to save; name one."));
        AdapterState adapters = state is not null && state.Contains(name) ? state : throw new InvalidOperationException($"The model has no adapter '{name}' to save.");
        LoraOptions options = adapters.Options(name);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach ((string path, string _, BertLinear layer) in DenseLayers())
        {
            if (layer.Adapter is LoraLinearAdapter lora && lora.Has(name))
            {
                tensors[$"{PeftAdapterConfig.KeyPrefix}{host.PeftModulePath(path)}.lora_A.weight"] = lora.A(name).Weight.detach();
                tensors[$"{PeftAdapterConfig.KeyPrefix}{host.PeftModulePath(path)}.lora_B.weight"] = lora.B(name).Weight.detach();
            }
        }

        if (host.AdapterHead is { } head)
        {
            IReadOnlyDictionary<string, Tensor>? copy = adapters.HeadCopy(name);
            foreach ((string local, Parameter p) in head.named_parameters())
            {
                tensors[PeftAdapterConfig.KeyPrefix + host.PeftModulePath(host.AdapterHeadKey(local))] = (copy?[local] ?? p).detach();
            }
        }

        foreach ((string key, Tensor value) in host.StateDict().Where(kv => options.ModulesToSave.Any(m => kv.Key.StartsWith(m + ".", StringComparison.Ordinal))))
        {
            tensors[PeftAdapterConfig.KeyPrefix + host.PeftModulePath(key)] = value;
        }

        string[] modules = [.. host.AdapterHeadModules.Concat(options.ModulesToSave).Select(host.PeftModulePath)];
        var config = new PeftAdapterConfig(host.PeftTaskType, options.Rank, options.Alpha, options.Dropout, options.UseRsLora, PeftAdapterConfig.TargetModulesFor(options.Targets, host.Encoder.Family.LayerLayout), modules, host.BaseModelNameOrPath);
        Dictionary<string, string> metadata = host.AdapterMetadata();
        writer.Add(PeftAdapterConfig.WeightsFileName, stream => SafeTensors.Write(stream, tensors, metadata, Path.Combine(directory, PeftAdapterConfig.WeightsFileName)));
        writer.AddText(PeftAdapterConfig.FileName, config.ToJson());
    }

    private void LoadCore(string directory, string name, bool intoExisting)
    {
        PeftAdapterConfig config = PeftAdapterConfig.Read(directory);
        string configPath = Path.Combine(directory, PeftAdapterConfig.FileName);
        if (config.TaskType.Length > 0 && config.TaskType != host.PeftTaskType)
        {
            throw new InvalidDataException($"'{configPath}': key 'task_type' is '{config.TaskType}' but this model is a {host.PeftTaskType} model.");
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
                string peftPath = host.PeftModulePath(modulePath);
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
            HashSet<string> headModules = [.. host.AdapterHeadModules.Select(host.PeftModulePath)];
            if (host.AdapterHead is { } head)
            {
                foreach ((string local, Parameter p) in head.named_parameters())
                {
                    headValues[local] = Take(file, PeftAdapterConfig.KeyPrefix + host.PeftModulePath(host.AdapterHeadKey(local)), p.shape, path, used);
                }
            }

            var extras = new List<string>();
            Dictionary<string, Tensor> own = host.StateDict();
            foreach (string module in config.ModulesToSave.Where(m => !headModules.Contains(m) && m != "score"))
            {
                string prefix = PeftAdapterConfig.KeyPrefix + module + ".";
                foreach (string key in file.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList())
                {
                    string ours = own.Keys.FirstOrDefault(k => PeftAdapterConfig.KeyPrefix + host.PeftModulePath(k) == key)
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

            if (!intoExisting && extras.Count > 0 && Any)
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
        AdapterState adapters = EnsureState();
        if (intoExisting)
        {
            if (!adapters.Contains(name) || layers.Any(l => l.Layer.Adapter is not LoraLinearAdapter lora || !lora.Has(name)))
            {
                throw new InvalidDataException($"Adapter folder '{directory}' targets other layers than the model's adapter '{name}'.");
            }
        }
        else
        {
            HandOverHead(adapters);
            using var generator = new Generator(0); // On the CPU (TorchSharp's only kind); DeviceRandom draws there and copies to the model's device.
            foreach ((BertLinear layer, Tensor _, Tensor _) in layers)
            {
                LoraOn(layer, adapters).Add(name, options, generator);
            }

            adapters.Add(name, options);
        }

        using (no_grad())
        {
            foreach ((BertLinear layer, Tensor a, Tensor b) in layers)
            {
                var lora = (LoraLinearAdapter)layer.Adapter!;
                lora.A(name).Weight.copy_(a);
                lora.B(name).Weight.copy_(b);
            }

            if (host.AdapterHead is { } head)
            {
                IReadOnlyDictionary<string, Tensor>? copy = adapters.HeadCopy(name);
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

        adapters.Active = name;
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
}
