using Bert.Sharp.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Adapters;

/// <summary>
/// LoRA on one <see cref="BertLinear"/>, PEFT's <c>lora.Linear</c>: for the active adapter it adds
/// <c>scaling · B·A·dropout(x)</c> to the layer's output; the base weight is not touched. Holds one A/B pair per adapter
/// name, registered under the layer as <c>lora_A.&lt;name&gt;.weight</c> [r, in] and <c>lora_B.&lt;name&gt;.weight</c> [out, r]
/// (PEFT's in-memory names), so state dicts, optimizers and parameter summaries see them.
/// </summary>
internal sealed class LoraLinearAdapter : LinearAdapter, IDisposable
{
    public const string AName = "lora_A";
    public const string BName = "lora_B";

    private readonly AdapterState state;
    private readonly LoraMatrices loraA = new();
    private readonly LoraMatrices loraB = new();
    private readonly Dictionary<string, (double Scaling, double Dropout)> settings = new(StringComparer.Ordinal);
    private BertLinear? layer;

    public LoraLinearAdapter(AdapterState state) => this.state = state;

    public bool IsEmpty => settings.Count == 0;

    public LoraMatrix A(string name) => loraA[name];

    public LoraMatrix B(string name) => loraB[name];

    public bool Has(string name) => settings.ContainsKey(name);

    /// <summary>Adds adapter <paramref name="name"/>: A Kaiming-uniform (a = √5, PEFT's and nn.Linear's default: U(±1/√in)) from <paramref name="generator"/>, B zeros.</summary>
    public void Add(string name, LoraOptions options, Generator generator)
    {
        BertLinear target = layer ?? throw new InvalidOperationException("The adapter is not attached to a layer.");
        Tensor weight = target.Weight;
        double bound = 1.0 / Math.Sqrt(target.InFeatures);
        Tensor a;
        using (no_grad())
        using (Tensor unit = Runtime.DeviceRandom.Uniform([options.Rank, target.InFeatures], weight.dtype, weight.device, generator))
        {
            // nn.init.uniform_ does not draw from the generator it is given in TorchSharp 0.107: scale rand instead. Drawn on
            // the CPU (the generator's device) and copied, so an adapter added to a model on CUDA starts where the CPU's does.
            a = Runtime.HeldScalars.AddInPlace(Runtime.HeldScalars.Multiply(unit, 2 * bound), -bound);
        }

        Tensor b = zeros([target.OutFeatures, options.Rank], weight.dtype, weight.device);
        loraA.Add(name, new LoraMatrix(a));
        loraB.Add(name, new LoraMatrix(b));
        settings[name] = (options.Scaling, options.Dropout);
    }

    public void Remove(string name)
    {
        loraA.Remove(name);
        loraB.Remove(name);
        settings.Remove(name);
    }

    public override Tensor? Delta(Tensor input)
    {
        string? name = state.Current;
        if (name is null || !settings.TryGetValue(name, out (double Scaling, double Dropout) s))
        {
            return null;
        }

        using var scope = NewDisposeScope();
        Tensor x = layer!.training ? FastDropout.Apply(input, s.Dropout) : input;
        Tensor delta = nn.functional.linear(nn.functional.linear(x, loraA[name].Weight), loraB[name].Weight);
        return Runtime.HeldScalars.MultiplyInPlace(delta, s.Scaling).MoveToOuterDisposeScope();
    }

    /// <summary><c>scaling · B·A</c> of adapter <paramref name="name"/>, [out, in]: what merging adds to the base weight.</summary>
    public Tensor DeltaWeight(string name) => Runtime.HeldScalars.Multiply(loraB[name].Weight.matmul(loraA[name].Weight), settings[name].Scaling);

    public void Dispose()
    {
        loraA.Dispose();
        loraB.Dispose();
    }

    public override void RegisterOn(BertLinear target)
    {
        layer = target;
        target.AddChild(AName, loraA);
        target.AddChild(BName, loraB);
    }

    public override void UnregisterFrom(BertLinear target)
    {
        target.RemoveChild(AName);
        target.RemoveChild(BName);
        layer = null;
    }
}
