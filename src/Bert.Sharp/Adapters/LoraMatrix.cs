using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Adapters;

/// <summary>One factor of a LoRA pair (PEFT's bias-free <c>nn.Linear</c> <c>lora_A.default</c> or <c>lora_B.default</c>): a <c>weight</c> only.</summary>
internal sealed class LoraMatrix : nn.Module
{
#pragma warning disable IDE1006, SA1300 // Field names are PEFT checkpoint keys.
    private readonly Parameter weight;
#pragma warning restore IDE1006, SA1300

    public LoraMatrix(Tensor initial) : base(nameof(LoraMatrix))
    {
        weight = Runtime.ModuleParameter.Create(initial);
        RegisterComponents();
    }

    public Parameter Weight => weight;
}

/// <summary>The factors of one kind (<c>lora_A</c> or <c>lora_B</c>) of a layer, one per adapter name, as PEFT's <c>ModuleDict</c>.</summary>
internal sealed class LoraMatrices : nn.Module
{
    private readonly Dictionary<string, LoraMatrix> byName = new(StringComparer.Ordinal);

    public LoraMatrices() : base(nameof(LoraMatrices))
    {
    }

    public LoraMatrix this[string name] => byName[name];

    public bool Contains(string name) => byName.ContainsKey(name);

    public void Add(string name, LoraMatrix matrix)
    {
        byName.Add(name, matrix);
        register_module(name, matrix);
    }

    public void Remove(string name)
    {
        if (byName.Remove(name, out LoraMatrix? matrix))
        {
            _internal_submodules.Remove(name);
            matrix.Dispose();
        }
    }

    public bool IsEmpty => byName.Count == 0;
}
