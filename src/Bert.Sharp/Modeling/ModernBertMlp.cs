using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>
/// ModernBERT's gated feed-forward block (<c>mlp.Wi</c>, <c>mlp.Wo</c>), as Hugging Face's <c>ModernBertMLP</c>:
/// <c>input, gate = Wi(x).chunk(2)</c>, then <c>Wo(dropout(act(input) * gate))</c>.
/// </summary>
internal sealed class ModernBertMlp : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly BertLinear Wi;
    private readonly BertLinear Wo;
#pragma warning restore IDE1006, SA1300
    private readonly FastDropout dropout;
    private readonly Func<Tensor, Tensor> activation;

    public ModernBertMlp(BertConfig config, ModernBertSettings settings) : base(nameof(ModernBertMlp))
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(settings);
        Wi = new BertLinear(config.HiddenSize, 2 * config.IntermediateSize, settings.MlpBias);
        Wo = new BertLinear(config.IntermediateSize, config.HiddenSize, settings.MlpBias);
        dropout = new FastDropout(config.HiddenDropoutProb);
        activation = Activations.Get(config.HiddenAct);
        register_module("Wi", Wi);
        register_module("drop", dropout);
        register_module("Wo", Wo);
    }

    /// <summary>Submodules are registered by name in the constructor; field-based registration would add them twice.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>Applies the block to [batch, seq, hidden].</summary>
    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        Tensor[] halves = Wi.call(hidden).chunk(2, -1);
        return Wo.call(dropout.call(activation(halves[0]) * halves[1])).MoveToOuterDisposeScope();
    }
}
