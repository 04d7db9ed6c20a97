using Microsoft.Extensions.Logging;

namespace Bert.Sharp.Serving;

/// <summary>The log messages of the ONNX serving classes.</summary>
internal static partial class OnnxServingLog
{
    [LoggerMessage(EventId = 8001, Level = LogLevel.Warning, Message = "'{Path}' holds int8 products with 8 bits on both sides ({Format}), and this CPU has no VNNI: ONNX Runtime adds each pair of them in a saturating 16-bit integer, so large activations are clipped and scores can move far from float32 (up to 0.29 on the sentiment sample on an AVX2 EPYC). Export it again with OnnxExportOptions.Int8Format = OnnxInt8Format.UnsignedWeights (the default), which gives the same numbers on every CPU.")]
    public static partial void SaturatingInt8(ILogger logger, string path, string format);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Information, Message = "'{Path}': {Weights} uint8 product weights re-encoded in memory as int8 for this CPU's VNNI dot-product kernels (the same numbers; OnnxClassifierOptions.ReencodeInt8ForVnni = false loads the file as it is)")]
    public static partial void ReencodedForVnni(ILogger logger, string path, int weights);
}
