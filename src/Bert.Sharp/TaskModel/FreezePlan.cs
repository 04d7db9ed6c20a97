namespace Bert.Sharp;

/// <summary>
/// Which parameters of a model learn, decided once per epoch by a <see cref="FreezePolicy"/> from the model's
/// <see cref="ModelUnit"/>s. The model applies it (<see cref="BertTaskModel.ApplyFreezePlan"/>), and everything else reads it:
/// the optimizer holds only trainable parameters, the units below the first trainable one run without autograd (and, when
/// nothing above the encoder trains, their output is computed once and cached), and the parameter summary counts it.
/// </summary>
public sealed class FreezePlan
{
    private readonly Func<ModelUnit, string, bool> rule;

    /// <summary>A plan from a rule over units and full parameter names.</summary>
    /// <param name="isTrainable">Whether parameter <c>name</c> (its full state-dict name) of <c>unit</c> learns; must be deterministic.</param>
    /// <param name="description">A name for logs.</param>
    public FreezePlan(Func<ModelUnit, string, bool> isTrainable, string? description = null)
    {
        rule = isTrainable ?? throw new ArgumentNullException(nameof(isTrainable));
        Description = description ?? "custom plan";
    }

    /// <summary>What the plan does, for logs.</summary>
    public string Description { get; }

    /// <summary>A plan that trains exactly the given units, whole, and freezes the rest.</summary>
    public static FreezePlan TrainUnits(IEnumerable<ModelUnit> units, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(units);
        var names = new HashSet<string>(units.Select(u => u.ParameterPrefix), StringComparer.Ordinal);
        return new FreezePlan((unit, _) => names.Contains(unit.ParameterPrefix), description ?? $"train {string.Join(", ", names)}");
    }

    /// <summary>
    /// Whether <paramref name="parameterName"/> of <paramref name="unit"/> learns. A unit the forward pass never reads
    /// (<see cref="ModelUnit.IsUsed"/> false) never learns, whatever the rule says: it would get no gradient.
    /// </summary>
    public bool IsTrainable(ModelUnit unit, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(unit);
        ArgumentNullException.ThrowIfNull(parameterName);
        return unit.IsUsed && rule(unit, parameterName);
    }

    /// <inheritdoc />
    public override string ToString() => Description;
}
