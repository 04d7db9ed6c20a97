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

    internal static ParameterSummary Of(IEnumerable<(string Name, Parameter Parameter)> parameters)
    {
        long trainable = 0, frozen = 0;
        int trainableTensors = 0, frozenTensors = 0;
        var parts = new List<(string Part, long Trainable, long Frozen)>();
        foreach ((string name, Parameter p) in parameters)
        {
            long n = p.numel();
            bool grad = p.requires_grad;
            string part = PartOf(name);
            int index = parts.FindIndex(x => x.Part == part);
            if (index < 0)
            {
                parts.Add((part, 0, 0));
                index = parts.Count - 1;
            }

            var entry = parts[index];
            parts[index] = grad ? entry with { Trainable = entry.Trainable + n } : entry with { Frozen = entry.Frozen + n };
            if (grad)
            {
                trainable += n;
                trainableTensors++;
            }
            else
            {
                frozen += n;
                frozenTensors++;
            }
        }

        return new ParameterSummary(trainable, frozen, trainableTensors, frozenTensors, [.. parts.Select(x => new ParameterGroupSummary(x.Part, x.Trainable, x.Frozen))]);
    }

    /// <summary>The part of the network a parameter name belongs to (drops a leading <c>bert.</c>).</summary>
    internal static string PartOf(string name)
    {
        string n = name.StartsWith("bert.", StringComparison.Ordinal) ? name[5..] : name;
        if (n.StartsWith("encoder.layer.", StringComparison.Ordinal))
        {
            int end = n.IndexOf('.', 14);
            return end < 0 ? n : n[..end];
        }

        int dot = n.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? n : n[..dot];
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var lines = new List<string> { $"trainable {Trainable:N0} / {Total:N0} parameters ({TrainableFraction:P1}); frozen {Frozen:N0}" };
        lines.AddRange(Parts.Select(p => $"  {p.Part,-18} {(p.Frozen == 0 ? "trainable" : p.Trainable == 0 ? "frozen" : "partly frozen"),-14} {p.Trainable + p.Frozen,12:N0}"));
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>Trainable and frozen scalars of one part of the network.</summary>
/// <param name="Part">The part: <c>embeddings</c>, <c>encoder.layer.N</c>, <c>pooler</c> or <c>classifier</c>.</param>
/// <param name="Trainable">Scalars that train.</param>
/// <param name="Frozen">Scalars that stay fixed.</param>
public sealed record ParameterGroupSummary(string Part, long Trainable, long Frozen);
