using Bert.Sharp.Adapters;
using Bert.Sharp.Checkpoints;
using Bert.Sharp.Modeling;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp;

// Reading PEFT's adapter layout into this model: every key checked (name, shape) before anything changes.
public abstract partial class BertTaskModel
{
    /// <summary>
    /// Finishes opening a PEFT adapter folder as a model: <paramref name="model"/> was just loaded from the base the folder
    /// names (<paramref name="baseModel"/>); the adapter is loaded into it, its head replaces the new one (so the head's keys
    /// no longer count as missing) and the base is recorded. The model is disposed when the adapter does not load.
    /// </summary>
    private protected static TModel WithAdapterFolder<TModel>(TModel model, string directory, string baseModel)
        where TModel : BertTaskModel
    {
        try
        {
            model.LoadAdapter(directory);
            HashSet<string> headKeys = model.HeadModule is { } head ? [.. head.named_parameters().Select(p => $"{model.HeadName}.{p.name}")] : [];
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
}
