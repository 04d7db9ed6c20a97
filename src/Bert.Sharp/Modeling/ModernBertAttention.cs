using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>
/// ModernBERT's self-attention (<c>attn.Wqkv</c>, <c>attn.Wo</c>), as Hugging Face's <c>ModernBertAttention</c> computes it
/// on the padded batch: one projection to queries, keys and values, rotary position embeddings on queries and keys (the
/// layer's base, positions 0, 1, 2, …), scaled dot products with padding masked and, in a local layer, every key farther
/// than <c>local_attention / 2</c> positions masked, softmax in float32, then the output projection.
/// </summary>
/// <remarks>
/// Masked scores get the dtype's lowest value added rather than minus infinity, as transformers' masks do, so a padding
/// query with no visible key gets a finite (ignored) result instead of NaN. Without attention probabilities or attention
/// dropout it runs torch's fused <c>scaled_dot_product_attention</c> with that mask (transformers' sdpa path), otherwise the
/// explicit eager computation. When the batch runs unpadded (<see cref="UnpaddingMode"/>; Hugging Face's FlashAttention path
/// does the same) the projections run over the real tokens only and attention over the padded rows: the same outputs at
/// real tokens.
/// </remarks>
internal sealed class ModernBertAttention : nn.Module<Tensor, EncoderContext, Tensor>
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly BertLinear Wqkv;
    private readonly BertLinear Wo;
#pragma warning restore IDE1006, SA1300
    private readonly int heads;
    private readonly int headSize;
    private readonly double dropoutProbability;
    private readonly double ropeTheta;

    public ModernBertAttention(BertConfig config, ModernBertSettings settings, int layerIndex) : base(nameof(ModernBertAttention))
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(settings);
        heads = config.NumAttentionHeads;
        headSize = config.HeadSize;
        dropoutProbability = config.AttentionProbsDropoutProb;
        ropeTheta = settings.RopeTheta(layerIndex);
        HalfWindow = settings.IsGlobal(layerIndex) ? null : settings.LocalAttention / 2;
        Wqkv = new BertLinear(config.HiddenSize, 3 * config.HiddenSize, settings.AttentionBias);
        Wo = new BertLinear(config.HiddenSize, config.HiddenSize, settings.AttentionBias);
        register_module("Wqkv", Wqkv);
        register_module("Wo", Wo);
    }

    /// <summary>Submodules are registered by name in the constructor; field-based registration would add them twice.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>How many positions each side a token sees in a local layer; <c>null</c> in a global layer.</summary>
    public int? HalfWindow { get; }

    /// <summary>Attends over <paramref name="hidden"/> [batch, seq, hidden], or [tokens, hidden] when the context runs unpadded (and so is the result).</summary>
    public override Tensor forward(Tensor hidden, EncoderContext context)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentNullException.ThrowIfNull(context);
        using var scope = NewDisposeScope();
        // Unpadded ([tokens, hidden], context.Layout set): the projections run over real tokens only, attention on the padded rows.
        PaddingLayout? layout = context.Layout;
        Tensor projected = Wqkv.call(hidden);
        if (layout is not null)
        {
            projected = layout.Pad(projected);
        }

        long batch = projected.shape[0], seq = projected.shape[1];
        Tensor qkv = projected.view(batch, seq, 3, heads, headSize).permute(2, 0, 3, 1, 4);
        Tensor query = qkv[0], key = qkv[1], value = qkv[2];
        (Tensor cos, Tensor sin) = Rotary(context.PositionIds, seq, projected.device, projected.dtype);
        query = Runtime.HeldScalars.Add(query * cos, RotateHalf(query) * sin);
        key = Runtime.HeldScalars.Add(key * cos, RotateHalf(key) * sin);

        Tensor? mask = Mask(context.KeyPaddingMask, seq, projected.device, query.dtype);
        bool dropping = training && dropoutProbability > 0;
        Tensor weighted;
        if (!context.ReturnAttentionProbabilities && !dropping)
        {
            // torch's fused kernel with the same additive mask (transformers' sdpa path): the same result without the
            // [batch, heads, seq, seq] scores where the kernel can avoid them.
            weighted = nn.functional.scaled_dot_product_attention(query, key, value, mask, 0.0, is_casual: false);
        }
        else
        {
            // transformers' eager path: explicit scores, softmax in float32, then this library's dropout generator.
            Tensor scores = query.matmul(key.transpose(2, 3)) * Math.Pow(headSize, -0.5);
            if (mask is not null)
            {
                scores = Runtime.HeldScalars.Add(scores, mask);
            }

            Tensor probabilities = nn.functional.softmax(scores, -1, ScalarType.Float32).to(query.dtype);
            if (context.ReturnAttentionProbabilities)
            {
                context.AddProbabilities(probabilities.detach());
            }

            weighted = (dropping ? FastDropout.Apply(probabilities, dropoutProbability) : probabilities).matmul(value);
        }

        Tensor attended = weighted.transpose(1, 2).reshape(batch, seq, heads * headSize);
        Tensor output = Wo.call(layout is null ? attended : layout.Unpad(attended));
        if (training && dropoutProbability > 0)
        {
            output = FastDropout.Apply(output, dropoutProbability);
        }

        return output.MoveToOuterDisposeScope();
    }

    // cos and sin [batch or 1, 1, seq, head] of Hugging Face's default rotary embedding: inverse frequencies
    // 1 / theta^(2i / head) in float32, angles position x frequency, the half repeated.
    private (Tensor Cos, Tensor Sin) Rotary(Tensor? positionIds, long seq, Device device, ScalarType dtype)
    {
        Tensor inverse = InverseFrequencies(ropeTheta, headSize, device);
        Tensor positions = positionIds is null
            ? Runtime.HeldScalars.Range(seq, ScalarType.Float32, device).unsqueeze(0)
            : positionIds.to(ScalarType.Float32, device);
        Tensor angles = positions.unsqueeze(-1) * inverse;
        Tensor full = cat([angles, angles], -1).unsqueeze(1);
        return (full.cos().to(dtype), full.sin().to(dtype));
    }

    /// <summary>
    /// The rotary inverse frequencies <c>1 / theta^(2i / head)</c>, i = 0 .. head/2 − 1, in float32 as transformers computes
    /// them (the ONNX exporter writes these same values).
    /// </summary>
    internal static Tensor InverseFrequencies(double theta, int headSize, Device device)
    {
        using var scope = NewDisposeScope();
        Tensor exponents = Runtime.HeldScalars.Divide(Runtime.HeldScalars.Range(0, headSize, 2, ScalarType.Int64, device).to(ScalarType.Float32), headSize);
        return tensor(theta, dtype: ScalarType.Float32, device: device).pow(exponents).reciprocal().MoveToOuterDisposeScope();
    }

    private static Tensor RotateHalf(Tensor x)
    {
        long half = x.shape[^1] / 2;
        return cat([x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half)], -1);
    }

    // The additive mask [batch or 1, 1, seq, seq]: 0 where a query may look, the dtype's lowest value elsewhere; null when nothing is masked.
    private Tensor? Mask(Tensor? keyPaddingMask, long seq, Device device, ScalarType dtype)
    {
        Tensor? allowed = keyPaddingMask?.to(ScalarType.Bool, device).view(keyPaddingMask.shape[0], 1, 1, seq);
        if (HalfWindow is int half && seq > half + 1)
        {
            Tensor rows = Runtime.HeldScalars.Range(seq, ScalarType.Int64, device);
            Tensor window = Runtime.HeldScalars.LessOrEqual((rows.unsqueeze(0) - rows.unsqueeze(1)).abs(), half).view(1, 1, seq, seq);
            allowed = allowed is null ? window : allowed.logical_and(window);
        }

        if (allowed is null)
        {
            return null;
        }

        return Runtime.HeldScalars.MaskedFill(zeros(allowed.shape, dtype: dtype, device: device), allowed.logical_not(), Attention.EagerAttentionKernel.MinValue(dtype));
    }
}
