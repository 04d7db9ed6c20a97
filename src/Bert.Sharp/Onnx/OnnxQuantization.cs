namespace Bert.Sharp;

/// <summary>How <see cref="OnnxExporter"/> stores the weights of the exported graph.</summary>
public enum OnnxQuantization
{
    /// <summary>Float32 weights and standard ONNX operators only: exact (same numbers as Bert.Sharp within float rounding), portable to any ONNX runtime.</summary>
    None,

    /// <summary>
    /// Int8 weights for every matrix product of the encoder and the heads (symmetric, one scale per output column) with the
    /// activations quantized on the fly, through ONNX Runtime's <c>DynamicQuantizeMatMul</c> (domain <c>com.microsoft</c>);
    /// the word-embedding table is stored as int8 too (one scale per block of 32 numbers) (<see cref="OnnxExportOptions.QuantizeWordEmbeddings"/>).
    /// About a quarter of the float32 file and faster on CPUs with int8 dot products (AVX-512 VNNI, AVX-VNNI, ARM dot
    /// product), for a small loss of accuracy; by default the same numbers on every CPU (<see cref="OnnxExportOptions.Int8Format"/>).
    /// Runs on ONNX Runtime only.
    /// </summary>
    DynamicInt8,
}
