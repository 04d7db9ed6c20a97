namespace Bert.Sharp;

/// <summary>Settings of <see cref="OnnxExporter.Export(string, string, OnnxExportOptions?)"/>.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>Lowest and highest default-domain opset the exporter writes.</summary>
    internal const int MinOpset = 17, MaxOpset = 21;

    /// <summary>Float32 (default) or dynamic int8 weights.</summary>
    public OnnxQuantization Quantization { get; init; } = OnnxQuantization.None;

    /// <summary>
    /// The ONNX opset of the graph's standard operators, 17 (the default: the first with <c>LayerNormalization</c>) to 21.
    /// Raise it only when a runtime needs a newer one; ONNX Runtime 1.16 and later read 17.
    /// </summary>
    public int Opset { get; init; } = 17;

    /// <summary>
    /// With <see cref="OnnxQuantization.DynamicInt8"/>: also store the word-embedding table (about half of a small BERT's
    /// weights) as int8 with one scale per block of 32 numbers; only the rows looked up are turned back into floats. Default <c>true</c>;
    /// <c>false</c> keeps the table in float32 (a larger file, slightly closer to the float32 model).
    /// </summary>
    public bool QuantizeWordEmbeddings { get; init; } = true;

    /// <summary>
    /// Write the encoder with ONNX Runtime's fused operators (domain <c>com.microsoft</c>: <c>Attention</c>,
    /// <c>SkipLayerNormalization</c>, <c>BiasGelu</c>/<c>FastGelu</c>), as ONNX Runtime's own transformer optimizer would
    /// leave it. Default <c>true</c>: the fastest graph on ONNX Runtime, whose built-in optimizer does not fuse these for a
    /// dynamic sequence axis. <c>false</c> writes standard ONNX operators only (any ONNX runtime; the layout
    /// <c>torch.onnx.export</c> gives). Int8 export always uses ONNX Runtime's operators. A ModernBERT encoder is always
    /// written in standard operators: ONNX Runtime's <c>MultiHeadAttention</c> with an attention bias and
    /// <c>SkipLayerNormalization</c> measured slower for it (docs/performance.md).
    /// </summary>
    public bool UseOnnxRuntimeOperators { get; init; } = true;

    /// <summary>
    /// With <see cref="OnnxQuantization.DynamicInt8"/>: one int8 scale per output column of each weight matrix (default
    /// <c>true</c>), so a column of small weights is not rounded on the scale of the largest weight of the matrix.
    /// <c>false</c> uses one scale per matrix (what most int8 exporters write; measurably further from float32).
    /// </summary>
    public bool PerChannelWeights { get; init; } = true;

    /// <summary>
    /// With <see cref="OnnxQuantization.DynamicInt8"/>: how the int8 products meet ONNX Runtime's kernels (default
    /// <see cref="OnnxInt8Format.UnsignedWeights"/>: uint8 weights, 8 bits on both sides, the same numbers on every CPU).
    /// <see cref="OnnxInt8Format.SignedWeights"/> is faster on CPUs with VNNI but saturates without it;
    /// <see cref="OnnxInt8Format.ReducedRange"/> never saturates and keeps that speed, with 7 bits on one side;
    /// <see cref="OnnxInt8Format.Blockwise"/> keeps the scores closest and serves one short text fastest.
    /// </summary>
    public OnnxInt8Format Int8Format { get; init; } = OnnxInt8Format.UnsignedWeights;

    /// <summary>
    /// With <see cref="OnnxQuantization.DynamicInt8"/>: quantize the activations entering each int8 matrix product with
    /// one scale and zero point per token (default <c>true</c>: uint8 over the token's own range, through
    /// <c>MatMulIntegerToFloat</c> and, for the attention projections, <c>MultiHeadAttention</c>), so a token's rounding
    /// does not depend on the largest value of the whole batch and a text scores the same alone or batched with others. <c>false</c> uses one scale per
    /// batch (<c>DynamicQuantizeLinear</c>, <c>DynamicQuantizeMatMul</c>, <c>QAttention</c>: fewer nodes, measurably
    /// further from float32).
    /// </summary>
    public bool PerTokenActivations { get; init; } = true;

    /// <summary>
    /// With <see cref="OnnxQuantization.DynamicInt8"/>: the first token of each sequence ([CLS], &lt;s&gt;) keeps about 16
    /// bits in every int8 linear layer instead of 8 (default <c>true</c>). That token is the attention sink of BERT-like
    /// encoders: its activations hold a few values hundreds of times larger than the rest (on a fine-tuned
    /// all-MiniLM-L6-v2, a range of 100–660 times the median against 15–60 for other tokens), so rounding it to 256 levels
    /// erases it, and every other token reads it through attention. With <see cref="PerTokenActivations"/> it is rounded
    /// twice — its values, then what that rounding left — and the remainder's row goes through the same int8 product as
    /// the other tokens and is added back: one more row per sequence and a few small operators per product, no float32
    /// weights. With one activation scale per batch that token's row of the batch's product is replaced by the product of
    /// its two rows (its values and their remainder, each with a scale of its own). On the sentiment
    /// sample's texts it takes the mean probability change against float32 down by about a third and the largest from
    /// 0.068 to 0.03–0.05 (docs/performance.md, "int8"). <c>false</c> rounds it like every other token.
    /// </summary>
    public bool PreciseFirstToken { get; init; } = true;

    /// <summary>
    /// With <see cref="OnnxQuantization.DynamicInt8"/>: the linear layers kept in float32, by checkpoint module name without
    /// the model prefix (<c>bert.</c>): an entry names a module (<c>classifier</c>, <c>encoder.layer.5.output.dense</c>)
    /// or every module under it (<c>pooler</c>, <c>encoder.layer.5</c>); the query, key and value projections of a layer
    /// are one unit (<c>encoder.layer.0.attention.self</c>, kept when any of them is named). The default,
    /// <see cref="DefaultFloat32Modules"/>, keeps the task head; add the encoder modules a quality check shows to move the
    /// scores most (<see cref="QualityCheck"/>); an empty list quantizes every linear layer. With
    /// <see cref="OnnxInt8Format.Blockwise"/> the default keeps only the head (classifier and pooler).
    /// </summary>
    public IReadOnlyList<string> Float32Modules { get; init; } = DefaultFloat32Modules;

    /// <summary>
    /// The modules <see cref="Float32Modules"/> keeps by default: the classifier and the pooler (small, and on the path of
    /// every score), and the first layer's feed-forward output (<c>encoder.layer.0.output.dense</c>), whose rounding every
    /// later layer carries: on a fine-tuned all-MiniLM-L6-v2 sentiment classifier it took the largest probability change
    /// from 0.067 to 0.048 for 1.8 MB (27.6 % → 29.6 % of the float32 file), more than any other single module
    /// (docs/performance.md, "int8 export: keeping the scores"). For a DistilBERT model the default means the same modules
    /// under its names: <c>pre_classifier</c>, <c>classifier</c> and <c>transformer.layer.0.ffn.lin2</c>; for ModernBERT
    /// <c>head</c>, <c>classifier</c> and <c>layers.0.mlp.Wo</c>. With <see cref="OnnxInt8Format.Blockwise"/> the default
    /// means the head alone: the first layer's output in float32 buys nothing there (0.036 against 0.028 without it, all
    /// 1,000 texts of the sentiment sample) and costs 1.8 MB.
    /// </summary>
    public static IReadOnlyList<string> DefaultFloat32Modules { get; } = ["classifier", "pooler", "encoder.layer.0.output.dense"];

    // The default's modules per layer layout: the head, and the first layer's feed-forward output (BERT's names above;
    // DistilBERT has pre_classifier + classifier and no pooler; ModernBERT its prediction head and classifier).
    private static readonly string[] BertHead = ["classifier", "pooler"], DistilBertHead = ["classifier", "pre_classifier"], ModernBertHead = ["classifier", "head"];
    private static readonly string[] DistilBertFloat32Modules = [.. DistilBertHead, "transformer.layer.0.ffn.lin2"];
    private static readonly string[] ModernBertFloat32Modules = [.. ModernBertHead, "layers.0.mlp.Wo"];

    /// <summary>
    /// With <see cref="OnnxQuantization.DynamicInt8"/>: checks the quantized model against the float32 export on texts the
    /// caller gives, and refuses or warns when the scores move more than it allows; <c>null</c> (default) checks nothing.
    /// The report comes back from <see cref="OnnxExporter.Export(string, string, OnnxExportOptions?, Microsoft.Extensions.Logging.ILogger?, CancellationToken)"/>.
    /// </summary>
    public OnnxQualityCheck? QualityCheck { get; init; }

    /// <summary>
    /// When the .onnx file goes to another folder than the model: also copy <c>config.json</c> and the tokenizer files
    /// there, so that folder alone is what <c>OnnxTextClassifier.FromPretrained</c> needs. Default <c>true</c>.
    /// </summary>
    public bool CopyServingFiles { get; init; } = true;

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An opset outside 17..21, or an unknown quantization.</exception>
    internal void Validate()
    {
        if (Opset is < MinOpset or > MaxOpset)
        {
            throw new ArgumentOutOfRangeException(nameof(Opset), Opset, $"The exporter writes opsets {MinOpset} to {MaxOpset}.");
        }

        if (!Enum.IsDefined(Quantization))
        {
            throw new ArgumentOutOfRangeException(nameof(Quantization), Quantization, "Unknown quantization.");
        }

        if (!Enum.IsDefined(Int8Format))
        {
            throw new ArgumentOutOfRangeException(nameof(Int8Format), Int8Format, "Unknown int8 format.");
        }

        ArgumentNullException.ThrowIfNull(Float32Modules, nameof(Float32Modules));
        if (Float32Modules.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException($"{nameof(Float32Modules)} holds an empty module name.", nameof(Float32Modules));
        }

        QualityCheck?.Validate();
    }

    /// <summary>
    /// Whether the linear layer <paramref name="module"/> (a checkpoint name, with or without <paramref name="prefix"/>) of a
    /// <paramref name="family"/> model stays float32. The default list names BERT's modules; for DistilBERT it means the
    /// same modules under DistilBERT's names (<c>pre_classifier</c> and <c>classifier</c>, <c>transformer.layer.0.ffn.lin2</c>).
    /// </summary>
    internal bool KeepsFloat32(string module, string prefix, EncoderFamily family)
    {
        string name = prefix.Length > 0 && module.StartsWith(prefix, StringComparison.Ordinal) ? module[prefix.Length..] : module;
        // Block scales do not need the first layer's output kept (see DefaultFloat32Modules): the head alone.
        bool headOnly = Int8Format == OnnxInt8Format.Blockwise;
        IReadOnlyList<string> entries = !ReferenceEquals(Float32Modules, DefaultFloat32Modules) ? Float32Modules : family.LayerLayout switch
        {
            EncoderLayerLayout.DistilBert => headOnly ? DistilBertHead : DistilBertFloat32Modules,
            EncoderLayerLayout.ModernBert => headOnly ? ModernBertHead : ModernBertFloat32Modules,
            _ => headOnly ? BertHead : Float32Modules,
        };
        foreach (string entry in entries)
        {
            string kept = entry.Trim().TrimEnd('.');
            if (prefix.Length > 0 && kept.StartsWith(prefix, StringComparison.Ordinal))
            {
                kept = kept[prefix.Length..];
            }

            if (name == kept || name.StartsWith(kept + ".", StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
