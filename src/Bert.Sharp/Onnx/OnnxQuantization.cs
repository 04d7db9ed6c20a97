namespace Bert.Sharp;

/// <summary>How <see cref="OnnxExporter"/> stores the weights of the exported graph.</summary>
public enum OnnxQuantization
{
    /// <summary>Float32 weights and standard ONNX operators only: exact (same numbers as Bert.Sharp within float rounding), portable to any ONNX runtime.</summary>
    None,

    /// <summary>
    /// Int8 weights for every matrix product of the encoder and the heads (symmetric, one scale per output column) with the
    /// activations quantized on the fly, through ONNX Runtime's integer operators (domain <c>com.microsoft</c>): per token by
    /// default (<see cref="OnnxExportOptions.PerTokenActivations"/>), the first token to about 16 bits
    /// (<see cref="OnnxExportOptions.PreciseFirstToken"/>); the word-embedding table is stored as int8 too (one scale per
    /// block of 32 numbers) (<see cref="OnnxExportOptions.QuantizeWordEmbeddings"/>). About 30 % of the float32 file, for a
    /// small loss of accuracy, and by default the same numbers on every CPU (<see cref="OnnxExportOptions.Int8Format"/>).
    /// The defaults, chosen to keep the scores, run about as fast as float32 or slower (measured on AVX2 and on AVX-512
    /// VNNI); one activation scale per batch is faster where the CPU has int8 dot products, and moves the scores more
    /// (docs/deployment.md, "What int8 buys"). <see cref="OnnxInt8Format.Blockwise"/> instead stores the weights with a
    /// scale per block of 32 numbers for ONNX Runtime's <c>MatMulNBits</c>, which quantizes the activations itself: the
    /// closest scores and the fastest int8 for one short text. Runs on ONNX Runtime only.
    /// </summary>
    DynamicInt8,
}
