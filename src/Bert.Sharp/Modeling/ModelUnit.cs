using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>What a <see cref="ModelUnit"/> is.</summary>
public enum ModelUnitKind
{
    /// <summary>The embedding block (word, position and token-type embeddings, LayerNorm).</summary>
    Embeddings,

    /// <summary>One transformer encoder layer.</summary>
    EncoderLayer,

    /// <summary>The pooler (dense + tanh over [CLS]); for ModernBERT, its <c>final_norm</c> after the last layer.</summary>
    Pooler,

    /// <summary>The task's head (a classifier on top of the encoder).</summary>
    Head,
}

/// <summary>
/// One block of a model that a <see cref="FreezePolicy"/> trains or freezes as a whole: the embeddings, each encoder layer,
/// the pooler, the task's head. A model lists its units from the input side to the output side
/// (<see cref="BertModel.Units"/>, <see cref="BertTaskModel.Units"/>), so "the top two layers" or "everything below layer 4"
/// are questions about positions in that list, never about parameter names.
/// </summary>
public sealed class ModelUnit
{
    // What varies between units is set by name where the model lists them (Kind, Depth, IsUsed).
    internal ModelUnit(string name, nn.Module module, string parameterPrefix)
    {
        Name = name;
        Module = module;
        ParameterPrefix = parameterPrefix;
    }

    /// <summary>A short name for logs and summaries: <c>embeddings</c>, <c>encoder.layer.3</c>, <c>pooler</c>, <c>classifier</c>.</summary>
    public string Name { get; }

    /// <summary>What the unit is.</summary>
    public ModelUnitKind Kind { get; internal init; }

    /// <summary>Position from the input side: 0 is the embeddings, 1..L the encoder layers, then the pooler and the head.</summary>
    public int Depth { get; internal init; }

    /// <summary>For an encoder layer, its index (0 nearest the input); otherwise <c>null</c>.</summary>
    public int? LayerIndex => Kind == ModelUnitKind.EncoderLayer ? Depth - 1 : null;

    /// <summary>The module itself.</summary>
    public nn.Module Module { get; }

    /// <summary>The prefix of the unit's parameter names in the model's state dict (<c>bert.encoder.layer.3</c>).</summary>
    public string ParameterPrefix { get; }

    /// <summary>
    /// Whether the model's forward pass reads this unit. A pooler under a head that pools by mean or [CLS] is kept (it is
    /// part of the checkpoint) but never read, so it is never trained.
    /// </summary>
    public bool IsUsed { get; internal init; } = true;

    /// <summary>The unit's parameters with their full state-dict names.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters()
    {
        foreach ((string name, Parameter parameter) in Module.named_parameters())
        {
            yield return (ParameterPrefix.Length == 0 ? name : $"{ParameterPrefix}.{name}", parameter);
        }
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
