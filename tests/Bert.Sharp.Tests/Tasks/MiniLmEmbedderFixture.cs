using Bert.Sharp.Models;
using Bert.Sharp.Tests.TestSupport;
using Microsoft.ML.OnnxRuntime;

namespace Bert.Sharp.Tests.Tasks;

/// <summary>The packaged all-MiniLM-L6-v2 folder, extracted once per test class, and ONNX Runtime on the original ONNX export.</summary>
public sealed class MiniLmEmbedderFixture : IDisposable
{
    private readonly string root = TestTemp.NewDirectory("minilm-embedder");

    public MiniLmEmbedderFixture()
    {
        Directory = MiniLmModel.EnsureImported(Path.Combine(root, MiniLmModel.Name));
        Embedder = SentenceEmbedder.FromPretrained(Directory, new SentenceEmbeddingOptions { BatchSize = 4 });
        Session = new InferenceSession(TestAssets.MiniLmOnnxPath);
    }

    /// <summary>The sentence-transformers folder the package carries.</summary>
    public string Directory { get; }

    public SentenceEmbedder Embedder { get; }

    /// <summary>ONNX Runtime on the original file: the independent reference.</summary>
    public InferenceSession Session { get; }

    public void Dispose()
    {
        Embedder.Dispose();
        Session.Dispose();
        System.IO.Directory.Delete(root, recursive: true);
    }
}
