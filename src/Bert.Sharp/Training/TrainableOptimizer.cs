using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Training;

/// <summary>One AdamW parameter group: a part of the network, with or without weight decay, and its learning-rate scale.</summary>
/// <param name="Key">Part and decay kind, e.g. <c>encoder.layer.5/decay</c>.</param>
/// <param name="Decay">Whether weight decay applies: to matrices (rank ≥ 2: dense weights, embedding tables), not to biases and LayerNorm vectors.</param>
/// <param name="Scale">Multiplier of the base learning rate (layer-wise decay).</param>
/// <param name="IsHead">Whether the group is the task's head (which may have its own learning rate).</param>
/// <param name="Names">Parameter names, in order.</param>
internal sealed record ParameterGroupLayout(string Key, bool Decay, double Scale, bool IsHead, IReadOnlyList<string> Names);

/// <summary>
/// AdamW over the trainable parameters only, in groups (decay / no decay, per part for layer-wise learning rates).
/// Frozen parameters are never added, so they have no optimizer state; parameters unfrozen later (gradual
/// unfreezing) are added as new groups. The layout is saved with a checkpoint so a resume rebuilds the same groups.
/// </summary>
internal sealed class TrainableOptimizer : IDisposable
{
    private readonly FineTuningOptions options;
    private readonly Dictionary<string, Parameter> parametersByName;
    private readonly IReadOnlyList<ModelUnit> units;
    private readonly List<ParameterGroupLayout> layout = [];
    private readonly List<Parameter> trainable = [];
    private readonly int layerCount;
    private AdamW? adam;

    private TrainableOptimizer(BertTaskModel model, FineTuningOptions options)
    {
        // A model taken from a serving class has column-major linear weights; the fused AdamW step needs contiguous ones.
        Modeling.LinearWeightLayout.UseRowMajor(model);
        this.options = options;
        units = model.Units;
        layerCount = units.Count(u => u.Kind == ModelUnitKind.EncoderLayer);
        parametersByName = units.SelectMany(u => u.NamedParameters()).ToDictionary(x => x.Name, x => x.Parameter, StringComparer.Ordinal);
    }

    public IReadOnlyList<ParameterGroupLayout> Layout => layout;

    public IReadOnlyList<Parameter> Parameters => trainable;

    public static TrainableOptimizer Create(BertTaskModel model, FineTuningOptions options)
    {
        var optimizer = new TrainableOptimizer(model, options);
        if (optimizer.AddNewlyTrainable() == 0)
        {
            optimizer.Dispose();
            throw new InvalidOperationException($"The freeze policy '{options.FreezePolicy}' leaves no parameter trainable; at least the head must learn.");
        }

        return optimizer;
    }

    public static TrainableOptimizer FromLayout(BertTaskModel model, FineTuningOptions options, IReadOnlyList<ParameterGroupLayout> saved, string source)
    {
        var optimizer = new TrainableOptimizer(model, options);
        foreach (ParameterGroupLayout group in saved)
        {
            foreach (string name in group.Names)
            {
                if (!optimizer.parametersByName.TryGetValue(name, out Parameter? p))
                {
                    optimizer.Dispose();
                    throw new InvalidDataException($"Checkpoint '{source}': the optimizer has parameter '{name}', which the model does not.");
                }

                if (!p.requires_grad)
                {
                    optimizer.Dispose();
                    throw new InvalidDataException($"Checkpoint '{source}': parameter '{name}' was trainable when it was saved but the freeze policy now freezes it; resume with the same FreezePolicy.");
                }
            }

            optimizer.AddGroup(group);
        }

        return optimizer;
    }

    /// <summary>Adds groups for every parameter that requires grad but is not in the optimizer yet; returns how many parameters were added.</summary>
    public int AddNewlyTrainable()
    {
        var known = new HashSet<string>(layout.SelectMany(g => g.Names), StringComparer.Ordinal);
        int added = 0;

        // Canonical order: head, pooler, top layer ... bottom layer, embeddings; decay before no-decay.
        foreach (ModelUnit unit in units.OrderByDescending(u => u.Depth))
        {
            var fresh = unit.NamedParameters().Where(p => p.Parameter.requires_grad && !known.Contains(p.Name)).ToList();
            foreach (bool decay in new[] { true, false })
            {
                string[] names = [.. fresh.Where(p => UsesDecay(p.Parameter) == decay).Select(p => p.Name)];
                if (names.Length == 0)
                {
                    continue;
                }

                bool inEncoder = unit.Kind is ModelUnitKind.Embeddings or ModelUnitKind.EncoderLayer;
                double scale = options.LayerwiseLearningRateDecay is double d && inEncoder ? Math.Pow(d, layerCount + 1 - unit.Depth) : 1.0;
                string key = $"{unit.Name}/{(decay ? "decay" : "no_decay")}";
                int repeat = layout.Count(g => g.Key == key || g.Key.StartsWith(key + "#", StringComparison.Ordinal));
                AddGroup(new ParameterGroupLayout(repeat == 0 ? key : $"{key}#{repeat + 1}", decay, scale, unit.Kind == ModelUnitKind.Head, names));
                added += names.Length;
            }
        }

        return added;
    }

    /// <summary>Sets every group's learning rate to its base rate × <paramref name="factor"/>; returns the head's (peak) rate.</summary>
    public double SetLearningRates(double factor)
    {
        int i = 0;
        foreach (optim.ILearningRateController group in adam!.ParamGroups)
        {
            group.LearningRate = BaseRate(layout[i++]) * factor;
        }

        return (options.HeadLearningRate ?? options.LearningRate) * factor;
    }

    /// <summary>One AdamW step: fused on the CPU for float32 parameters, TorchSharp's step otherwise (same state, same format).</summary>
    public void Step() => FusedAdamWStep.Step(adam!);

    public void Save(Stream stream)
    {
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        adam!.save_state_dict(writer);
    }

    /// <summary>Reads the state <see cref="Save"/> wrote, after checking its layout against this optimizer (see <see cref="OptimizerFileCheck"/>).</summary>
    public void Load(Stream stream, string source)
    {
        if (!stream.CanSeek)
        {
            throw new ArgumentException("The optimizer state is checked before it is read, which needs a seekable stream.", nameof(stream));
        }

        optim.Optimizer.StateDictionary expected = adam!.state_dict();
        var moments = expected.State.Cast<AdamW.State>().Select(s => (s.exp_avg.dtype, s.exp_avg.shape, s.exp_avg.ElementSize)).ToList();
        OptimizerFileCheck.Check(stream, adam.GetType().Name, expected.Options.Count, moments, source);
        using var reader = new BoundedBinaryReader(stream);
        try
        {
            adam.load_state_dict(reader);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or EndOfStreamException or OverflowException or IOException)
        {
            throw new InvalidDataException($"Checkpoint '{source}': the optimizer state does not fit this model and freeze policy: {e.Message}", e);
        }

        CheckLoaded(source);
    }

    // What load_state_dict read must be a state an AdamW run can have written: betas in [0, 1), a positive epsilon, a
    // non-negative weight decay and learning rate (all finite), no AMSGrad or maximize, a non-negative step, finite moments
    // and a non-negative second moment. A damaged file would otherwise train on silently (or turn into a NaN loss blamed
    // on the learning rate). Values within range are kept, as PyTorch's load_state_dict keeps the saved hyperparameters.
    private void CheckLoaded(string source)
    {
        using var scope = NewDisposeScope();
        optim.Optimizer.StateDictionary saved = adam!.state_dict();
        for (int g = 0; g < saved.Options.Count; g++)
        {
            var o = (AdamW.Options)saved.Options[g];
            if (!(o.beta1 is double b1 && b1 >= 0 && b1 < 1 && o.beta2 is double b2 && b2 >= 0 && b2 < 1
                && o.eps is double eps && double.IsFinite(eps) && eps > 0 && o.weight_decay is double wd && double.IsFinite(wd) && wd >= 0
                && o.LearningRate is double lr && double.IsFinite(lr) && lr >= 0 && o.amsgrad != true && o.maximize != true))
            {
                string group = g < layout.Count ? layout[g].Key : g.ToString(System.Globalization.CultureInfo.InvariantCulture);
                throw new InvalidDataException(
                    $"Checkpoint '{source}': optimizer group '{group}' has betas ({o.beta1}, {o.beta2}), epsilon {o.eps}, weight decay {o.weight_decay}, learning rate {o.LearningRate}, amsgrad {o.amsgrad}, maximize {o.maximize}; " +
                    "AdamW needs betas in [0, 1), a positive epsilon, a non-negative weight decay and learning rate: the optimizer state is damaged.");
            }
        }

        for (int i = 0; i < saved.State.Count; i++)
        {
            var state = (AdamW.State)saved.State[i];
            bool ok = state.step >= 0
                && (state.exp_avg is null || isfinite(state.exp_avg).all().ToBoolean())
                && (state.exp_avg_sq is null || (isfinite(state.exp_avg_sq).all().ToBoolean() && state.exp_avg_sq.ge(0).all().ToBoolean()));
            if (!ok)
            {
                throw new InvalidDataException($"Checkpoint '{source}': the optimizer state of parameter {i} holds a negative step, a non-finite moment or a negative second moment: the optimizer state is damaged.");
            }
        }
    }

    public void Dispose() => adam?.Dispose();

    // Decay by rank (nanoGPT's rule): matrices shrink towards zero, vectors (biases, LayerNorm scales and shifts) do not.
    private static bool UsesDecay(Parameter parameter) => parameter.dim() >= 2;

    private double BaseRate(ParameterGroupLayout group) => (group.IsHead ? options.HeadLearningRate ?? options.LearningRate : options.LearningRate) * group.Scale;

    private void AddGroup(ParameterGroupLayout group)
    {
        Parameter[] ps = [.. group.Names.Select(n => parametersByName[n])];
        var paramGroup = new AdamW.ParamGroup(ps, BaseRate(group), options.AdamBeta1, options.AdamBeta2, options.AdamEpsilon, group.Decay ? options.WeightDecay : 0.0);
        if (adam is null)
        {
            adam = optim.AdamW([paramGroup], BaseRate(group), options.AdamBeta1, options.AdamBeta2, options.AdamEpsilon, options.WeightDecay);
        }
        else
        {
            adam.add_param_group(paramGroup);
        }

        layout.Add(group);
        trainable.AddRange(ps);
    }
}
