using Bert.Sharp.Attention;
using Bert.Sharp.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// One transformer encoder layer (<c>encoder.layer.N.*</c>): self-attention with its output block, then the feed-forward
/// block, both post-LayerNorm. A unit of <see cref="BertModel"/>: freeze policies train or freeze layers whole. Its
/// <see cref="Layout"/> (from the model's <see cref="EncoderFamily"/>) decides its submodules and their names: BERT's and
/// RoBERTa's (<c>attention.self.query</c>, …, <c>output.LayerNorm</c>) or DistilBERT's (<c>attention.q_lin</c>, …,
/// <c>output_layer_norm</c>); the computation is the same. ModernBERT's (<c>layers.N.attn_norm</c>, <c>attn.Wqkv</c>, <c>attn.Wo</c>,
/// <c>mlp_norm</c>, <c>mlp.Wi</c>, <c>mlp.Wo</c>) is pre-LayerNorm, with rotary positions, local or global attention and a gated feed-forward.
/// </summary>
public sealed class BertLayer : nn.Module<Tensor, EncoderContext, Tensor>
{
    // BERT layout.
    private readonly BertAttention? attention;
    private readonly BertIntermediate? intermediate;
    private readonly BertOutput? output;

    // DistilBERT layout.
    private readonly BertSelfAttention? distilAttention;
    private readonly LayerNorm? saLayerNorm;
    private readonly DistilBertFeedForward? ffn;
    private readonly LayerNorm? outputLayerNorm;

    // ModernBERT layout.
    private readonly LayerNorm? attnNorm;
    private readonly ModernBertAttention? modernAttention;
    private readonly LayerNorm? mlpNorm;
    private readonly ModernBertMlp? mlp;

    internal BertLayer(BertConfig config) : this(config, 0)
    {
    }

    /// <summary>Builds layer <paramref name="index"/> (ModernBERT's layers differ by index: local or global attention, no <c>attn_norm</c> in layer 0).</summary>
    internal BertLayer(BertConfig config, int index) : base(nameof(BertLayer))
    {
        ArgumentNullException.ThrowIfNull(config);
        Layout = config.Family.LayerLayout;
        if (Layout == EncoderLayerLayout.ModernBert)
        {
            // Hugging Face's ModernBertEncoderLayer: attn_norm (Identity in layer 0), attn, mlp_norm, mlp; biases per norm_bias.
            ModernBertSettings settings = ModernBertSettings.Read(config);
            if (index > 0)
            {
                attnNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps, bias: settings.NormBias);
                register_module("attn_norm", attnNorm);
            }

            modernAttention = new ModernBertAttention(config, settings, index);
            mlpNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps, bias: settings.NormBias);
            mlp = new ModernBertMlp(config, settings);
            register_module("attn", modernAttention);
            register_module("mlp_norm", mlpNorm);
            register_module("mlp", mlp);
        }
        else if (Layout == EncoderLayerLayout.DistilBert)
        {
            distilAttention = new BertSelfAttention(config, EncoderLayerLayout.DistilBert);
            saLayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
            ffn = new DistilBertFeedForward(config);
            outputLayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
            register_module("attention", distilAttention);
            register_module("sa_layer_norm", saLayerNorm);
            register_module("ffn", ffn);
            register_module("output_layer_norm", outputLayerNorm);
        }
        else
        {
            attention = new BertAttention(config);
            intermediate = new BertIntermediate(config);
            output = new BertOutput(config, config.IntermediateSize);
            register_module("attention", attention);
            register_module("intermediate", intermediate);
            register_module("output", output);
        }
    }

    /// <summary>Submodules are registered by name in the constructor (names depend on the family); field-based registration would add them twice.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>The layout (and so the parameter names) of this layer.</summary>
    public EncoderLayerLayout Layout { get; }

    /// <summary>
    /// The attention kernel this layer uses. A ModernBERT layer computes its masked (sliding-window) attention itself: it
    /// reports the eager kernel and keeps no other (the results are the same, only speed and memory would differ).
    /// </summary>
    public IAttentionKernel AttentionKernel
    {
        get => modernAttention is null ? SelfAttention.Kernel : EagerAttentionKernel.Instance;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (modernAttention is null)
            {
                SelfAttention.Kernel = value;
            }
        }
    }

    private BertSelfAttention SelfAttention => distilAttention ?? attention!.Self;

    /// <summary>The dense layers by their name inside the layer (<c>attention.self.query</c>, ..., <c>output.dense</c>), for adapters.</summary>
    internal IEnumerable<(string Name, BertLinear Layer)> DenseLayers()
    {
        foreach ((string name, nn.Module module) in named_modules())
        {
            if (module is BertLinear linear)
            {
                yield return (name, linear);
            }
        }
    }

    /// <summary>Runs the layer over <paramref name="hidden"/> [batch, seq, hidden] (or [tokens, hidden] when the context runs unpadded).</summary>
    public override Tensor forward(Tensor hidden, EncoderContext context)
    {
        using var scope = NewDisposeScope();
        if (modernAttention is not null)
        {
            // Hugging Face's ModernBertEncoderLayer: h = x + attn(attn_norm(x)), then h + mlp(mlp_norm(h)).
            Tensor attendedModern = Runtime.HeldScalars.Add(hidden, modernAttention.call(attnNorm is null ? hidden : attnNorm.call(hidden), context));
            return Runtime.HeldScalars.Add(attendedModern, mlp!.call(mlpNorm!.call(attendedModern))).MoveToOuterDisposeScope();
        }

        if (distilAttention is not null)
        {
            // Hugging Face's TransformerBlock: sa_layer_norm(attention(x) + x), then output_layer_norm(ffn(h) + h).
            Tensor attendedDistil = saLayerNorm!.call(Runtime.HeldScalars.Add(distilAttention.call(hidden, context), hidden));
            return outputLayerNorm!.call(Runtime.HeldScalars.Add(ffn!.call(attendedDistil), attendedDistil)).MoveToOuterDisposeScope();
        }

        Tensor attended = attention!.call(hidden, context);
        return output!.call(intermediate!.call(attended), attended).MoveToOuterDisposeScope();
    }
}
