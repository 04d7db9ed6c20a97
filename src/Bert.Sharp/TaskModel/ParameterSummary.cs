using TorchSharp.Modules;

namespace Bert.Sharp;

/// <summary>How many parameters (scalars) of a model train and how many are frozen, overall and per part.</summary>
/// <param name="Trainable">Scalars that receive gradients and are updated.</param>
/// <param name="Frozen">Scalars that stay fixed.</param>
/// <param name="TrainableTensors">Parameter tensors that train.</param>
/// <param name="FrozenTensors">Parameter tensors that stay fixed.</param>
/// <param name="Parts">Per part of the network (<c>embeddings</c>, <c>encoder.layer.N</c>, <c>pooler</c>, <c>classifier</c>): trainable and frozen scalars.</param>
public sealed record ParameterSummary(long Trainable, long Frozen, int TrainableTensors, int FrozenTensors, IReadOnlyList<ParameterGroupSummary> Parts)
{
    /// <summary>All scalars.</summary>
    public long Total => Trainable + Frozen;

    /// <summary>Share of scalars that train, 0..1.</summary>
    public double TrainableFraction => Total == 0 ? 0 : (double)Trainable / Total;

    /// <summary>Counts the parameters of <paramref name="units"/>, one part per unit, in unit order.</summary>
    internal static ParameterSummary Of(IEnumerable<ModelUnit> units)
    {
        long trainable = 0, frozen = 0;
        int trainableTensors = 0, frozenTensors = 0;
        var parts = new List<ParameterGroupSummary>();
        foreach (ModelUnit unit in units)
        {
            long unitTrainable = 0, unitFrozen = 0;
            foreach ((string _, Parameter p) in unit.NamedParameters())
            {
                long n = p.numel();
                if (p.requires_grad)
                {
                    unitTrainable += n;
                    trainableTensors++;
                }
                else
                {
                    unitFrozen += n;
                    frozenTensors++;
                }
            }

            trainable += unitTrainable;
            frozen += unitFrozen;
            parts.Add(new ParameterGroupSummary(unit.Name, unitTrainable, unitFrozen));
        }

        return new ParameterSummary(trainable, frozen, trainableTensors, frozenTensors, parts);
    }

    /// <summary>The parts with anything to train, comma-separated (<c>encoder.layer.5, pooler, classifier</c>), or <c>none</c>.</summary>
    public string TrainableParts
    {
        get
        {
            string[] parts = [.. Parts.Where(p => p.Trainable > 0).Select(p => p.Frozen == 0 ? p.Part : $"{p.Part} (partly)")];
            return parts.Length == 0 ? "none" : string.Join(", ", parts);
        }
    }

    /// <summary>One line: <c>trainable 1,775,234 / 22,713,986 parameters (7.8 %) in encoder.layer.5, pooler, classifier</c>.</summary>
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"trainable {Trainable:N0} / {Total:N0} parameters ({TrainableFraction:P1}) in {TrainableParts}");

    /// <summary>A table, one line per part: its name, whether it trains, and its size.</summary>
    public string ToTable()
    {
        var lines = new List<string> { ToString() };
        lines.AddRange(Parts.Select(p => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"  {p.Part,-18} {(p.Frozen == 0 ? "trainable" : p.Trainable == 0 ? "frozen" : "partly frozen"),-14} {p.Trainable + p.Frozen,12:N0}")));
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>Trainable and frozen scalars of one part of the network.</summary>
/// <param name="Part">The part: <c>embeddings</c>, <c>encoder.layer.N</c>, <c>pooler</c> or <c>classifier</c>.</param>
/// <param name="Trainable">Scalars that train.</param>
/// <param name="Frozen">Scalars that stay fixed.</param>
public sealed record ParameterGroupSummary(string Part, long Trainable, long Frozen);
