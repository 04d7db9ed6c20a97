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
    /// <c>torch.onnx.export</c> gives). Int8 export always uses ONNX Runtime's operators.
    /// </summary>
    public bool UseOnnxRuntimeOperators { get; init; } = true;

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
    }
}
