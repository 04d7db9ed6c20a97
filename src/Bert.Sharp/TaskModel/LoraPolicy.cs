using Bert.Sharp.Adapters;

namespace Bert.Sharp;

/// <summary>
/// LoRA as a freeze policy: <see cref="PrepareForRun"/> adds the adapter (once), and the plan trains only its A/B pairs, the head and
/// the modules to save; every base weight, the pooler included, stays frozen (PEFT's semantics).
/// </summary>
internal sealed class LoraPolicy(LoraOptions options, string adapterName) : FreezePolicy
{
    public LoraOptions Options { get; } = options;

    public string AdapterName { get; } = adapterName;

    public override FreezePlan Plan(IReadOnlyList<ModelUnit> units, int epoch)
    {
        ArgumentNullException.ThrowIfNull(units);
        string a = $".{LoraLinearAdapter.AName}.{AdapterName}.";
        string b = $".{LoraLinearAdapter.BName}.{AdapterName}.";
        return new FreezePlan(
            (unit, name) => unit.Kind == ModelUnitKind.Head
                || name.Contains(a, StringComparison.Ordinal)
                || name.Contains(b, StringComparison.Ordinal)
                || Options.ModulesToSave.Any(m => name.StartsWith(m + ".", StringComparison.Ordinal)),
            ToString());
    }

    public override void Prepare(BertTaskModel model) => PrepareForRun(model, seed: 42);

    internal override void PrepareForRun(BertTaskModel model, int seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.Adapters.Names.Contains(AdapterName))
        {
            model.Adapters.Add(AdapterName, Options, seed);
        }

        model.Adapters.Use(AdapterName);
    }

    public override string ToString() => string.Create(
        System.Globalization.CultureInfo.InvariantCulture,
        $"LoRA (r={Options.Rank}, alpha={Options.Alpha}, dropout={Options.Dropout}, targets={Options.Targets}) + head");
}
