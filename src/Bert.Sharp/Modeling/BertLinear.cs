using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>
/// A dense layer, <c>x·Wᵀ + b</c>, with Hugging Face's parameter names (<c>weight</c> [out, in], <c>bias</c> [out]).
/// It is BERT's <c>nn.Linear</c>, with one addition: an adapter (a low-rank update, see <see cref="LinearAdapter"/>) can be
/// attached to it, which adds its own term to the output while the base weight stays as it is.
/// </summary>
internal sealed class BertLinear : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly Parameter weight;
    private readonly Parameter? bias;
#pragma warning restore IDE1006, SA1300

    public BertLinear(int inFeatures, int outFeatures, bool hasBias = true) : base(nameof(BertLinear))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        weight = Runtime.ModuleParameter.Create(empty(outFeatures, inFeatures));
        bias = hasBias ? Runtime.ModuleParameter.Create(zeros(outFeatures)) : null;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        RegisterComponents();
    }

    public int InFeatures { get; }

    public int OutFeatures { get; }

    public Parameter Weight => weight;

    public Parameter? Bias => bias;

    /// <summary>The adapter attached to this layer, or <c>null</c>. Registered as submodules, so its parameters are saved and trained.</summary>
    public LinearAdapter? Adapter { get; private set; }

    /// <summary>Attaches <paramref name="adapter"/> (its parameters become children of this layer); replaces none.</summary>
    /// <exception cref="InvalidOperationException">An adapter is attached already.</exception>
    public void Attach(LinearAdapter adapter)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        if (Adapter is not null)
        {
            throw new InvalidOperationException($"An adapter is attached to this {InFeatures}→{OutFeatures} layer already.");
        }

        adapter.RegisterOn(this);
        Adapter = adapter;
    }

    /// <summary>Detaches the adapter (after merging it, for example).</summary>
    public void Detach()
    {
        if (Adapter is { } adapter)
        {
            adapter.UnregisterFrom(this);
            Adapter = null;
        }
    }

    /// <summary>The serving copy of the weight for few-row inputs (<see cref="PackForSmallRows"/>), or <c>null</c>.</summary>
    internal PackedLinearWeight? Packed { get; private set; }

    /// <summary>Packs the weight for inputs of few rows without gradients (serving); returns whether it was packed.</summary>
    internal bool PackForSmallRows()
    {
        Packed = PackedLinearWeight.TryCreate(weight, weight);
        return Packed is not null;
    }

    /// <summary>Drops the packed copy (training, or the weights leave the CPU).</summary>
    internal void ReleasePacked() => Packed = null;

    public override Tensor forward(Tensor input)
    {
        if (Adapter is null && Packed?.TryMultiply(input, [weight], weight, bias) is { } packed)
        {
            return packed;
        }

        Tensor output = nn.functional.linear(input, weight, bias);
        if (Adapter is null)
        {
            return output;
        }

        using var scope = NewDisposeScope();
        Tensor? delta = Adapter.Delta(input);
        return delta is null ? output.MoveToOuterDisposeScope() : Runtime.HeldScalars.AddInPlace(output, delta).MoveToOuterDisposeScope();
    }

    /// <summary>Registers a child module under <paramref name="name"/> (used by adapters).</summary>
    internal void AddChild(string name, nn.Module module) => register_module(name, module);

    /// <summary>Removes a child module registered by <see cref="AddChild"/>.</summary>
    internal void RemoveChild(string name) => _internal_submodules.Remove(name);
}
