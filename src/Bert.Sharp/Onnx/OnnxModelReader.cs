using Bert.Sharp.Onnx.Proto;
using Google.Protobuf;

namespace Bert.Sharp.Onnx;

/// <summary>
/// Parses a whole .onnx file into the generated <see cref="ModelProto"/> and checks what the rest of the importer relies
/// on, so a hostile or damaged file fails here with an <see cref="InvalidDataException"/> naming it.
/// </summary>
/// <remarks>
/// Resources stay bounded by the file: protobuf refuses lengths beyond the bytes that remain and nesting deeper than its
/// recursion limit (a graph inside an attribute inside a graph...), and <see cref="OnnxTensorData"/> checks every
/// declared shape against the bytes or values actually present before it allocates anything.
/// </remarks>
internal static class OnnxModelReader
{
    /// <summary>Sub-messages may nest this deep (graph → node → attribute → graph ...); BERT exports need about 5.</summary>
    private const int RecursionLimit = 64;

    /// <summary>Parses <paramref name="bytes"/> (the file named <paramref name="source"/>).</summary>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed ONNX model; the message names <paramref name="source"/>.</exception>
    public static ModelProto Read(byte[] bytes, string source)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ModelProto model;
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            using CodedInputStream input = CodedInputStream.CreateWithLimits(stream, Math.Max(1, bytes.Length), RecursionLimit);
            model = ModelProto.Parser.WithDiscardUnknownFields(true).ParseFrom(input);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"'{source}' is not a valid ONNX model (truncated, too deeply nested, or not protobuf): {e.Message}", e);
        }

        if (model.IrVersion <= 0 || model.Graph is null)
        {
            throw new InvalidDataException($"'{source}' is not an ONNX model: it has no {(model.IrVersion <= 0 ? "ir_version" : "graph")}.");
        }

        return model;
    }
}
