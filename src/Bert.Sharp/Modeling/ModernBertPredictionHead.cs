using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>
/// ModernBERT's prediction head before its classifier (<c>head.dense</c>, <c>head.norm</c>), as Hugging Face's
/// <c>ModernBertPredictionHead</c>: <c>norm(act(dense(x)))</c>, the dense bias per <c>classifier_bias</c>, the norm's per
/// <c>norm_bias</c>, the activation per <c>classifier_activation</c>.
/// </summary>
internal sealed class ModernBertPredictionHead : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly BertLinear dense;
    private readonly LayerNorm norm;
#pragma warning restore IDE1006, SA1300
    private readonly Func<Tensor, Tensor> activation;

    public ModernBertPredictionHead(BertConfig config, ModernBertSettings settings) : base(nameof(ModernBertPredictionHead))
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(settings);
        dense = new BertLinear(config.HiddenSize, config.HiddenSize, settings.ClassifierBias);
        norm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps, bias: settings.NormBias);
        activation = Activations.Get(settings.ClassifierActivation);
        register_module("dense", dense);
        register_module("norm", norm);
    }

    /// <summary>Submodules are registered by name in the constructor; field-based registration would add them twice.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>The dense layer (<c>head.dense</c>).</summary>
    public BertLinear Dense => dense;

    /// <summary>The norm (<c>head.norm</c>).</summary>
    public LayerNorm Norm => norm;

    /// <summary>Applies the head to [..., hidden].</summary>
    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return norm.call(activation(dense.call(hidden))).MoveToOuterDisposeScope();
    }
}
