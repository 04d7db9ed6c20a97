namespace Bert.Sharp;

/// <summary>
/// How the int8 matrix products of a <see cref="OnnxQuantization.DynamicInt8"/> export meet ONNX Runtime's CPU kernels
/// (<see cref="OnnxExportOptions.Int8Format"/>). The activations are uint8 in every format. Without VNNI (AVX2 machines
/// such as AMD Zen 3 or Intel before Ice Lake, and AVX-512 without VNNI) ONNX Runtime multiplies uint8 by int8 with
/// <c>vpmaddubsw</c>, which adds each pair of products in a saturating 16-bit integer: with 8 bits on both sides
/// (2 × 255 × 127 = 64,770) the products of large activations are clipped without a word. uint8 by uint8 is widened to
/// 16 bits before it is multiplied, on every CPU.
/// </summary>
public enum OnnxInt8Format
{
    /// <summary>
    /// uint8 weights with zero point 128 (the int8 values shifted), 8 bits on both sides: the same numbers on every CPU, no
    /// saturation anywhere. The default. On CPUs with VNNI, slower than <see cref="SignedWeights"/>, whose products
    /// use the VNNI instruction.
    /// </summary>
    UnsignedWeights,

    /// <summary>
    /// int8 weights, 8 bits on both sides: the fastest on CPUs with VNNI (AVX512-VNNI, AVX-VNNI) or on ARM, where it
    /// computes what <see cref="UnsignedWeights"/> does; on x86 CPUs without VNNI large activations saturate (on a 2-core
    /// AMD EPYC with AVX2 the sentiment model's probabilities moved by up to 0.29 against float32, 5 of 200 labels flipped).
    /// Only for a model that will run on such CPUs alone.
    /// </summary>
    SignedWeights,

    /// <summary>
    /// int8 weights with 7 bits on one side, so that no pair of products can leave 16 bits (ONNX Runtime's
    /// <c>reduce_range</c>): the per-token activations take 128 levels (<see cref="OnnxExportOptions.PerTokenActivations"/>)
    /// or, where ONNX Runtime quantizes the activations itself, the weights take [-63, 63]. Never saturates and keeps the
    /// u8·s8 kernels' speed, at half the precision on that side.
    /// </summary>
    ReducedRange,

    /// <summary>
    /// int8 weights with one scale per block of 32 input numbers of each output (uint8 around 128), multiplied by ONNX
    /// Runtime's <c>MatMulNBits</c> (8 bits, accuracy level 4), which quantizes the activations itself per block of 32
    /// numbers of each token and multiplies with its integer kernels: no quantizing operators in the graph, finer scales
    /// on both sides. On the sentiment sample (AMD EPYC Zen 4, AVX-512 VNNI, ONNX Runtime 1.31) it moved the probabilities
    /// by at most 0.028 against float32 (the default: 0.049, all 1,000 texts), at 29 % of the float32 file, and ran one
    /// 16-token text in 0.80 of float32's time (the default as served there: 1.13); batches took 0.86–0.95 of float32's
    /// time (the default: 0.67–0.81). So: the closest scores, and the fastest int8 for one short text at a time.
    /// <see cref="OnnxExportOptions.PerTokenActivations"/> and <see cref="OnnxExportOptions.PreciseFirstToken"/> do not
    /// apply; the default <see cref="OnnxExportOptions.Float32Modules"/> keeps only the head in float32. Needs ONNX Runtime
    /// 1.22 or later (8-bit <c>MatMulNBits</c> on x86).
    /// </summary>
    Blockwise,
}
