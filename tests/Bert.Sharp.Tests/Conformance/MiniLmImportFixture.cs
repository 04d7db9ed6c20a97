using System.Diagnostics;
using Bert.Sharp.Tests.TestSupport;
using Microsoft.ML.OnnxRuntime;

namespace Bert.Sharp.Tests.Conformance;

/// <summary>Imports the all-MiniLM-L6-v2 ONNX export once per test class and opens it in ONNX Runtime.</summary>
public sealed class MiniLmImportFixture : IDisposable
{
    public MiniLmImportFixture()
    {
        Directory = TestTemp.NewDirectory("minilm-import");
        var watch = Stopwatch.StartNew();
        OnnxImporter.ImportToDirectory(TestAssets.MiniLmOnnxPath, Directory, TestAssets.UncasedVocabPath);
        ImportTime = watch.Elapsed;
        Session = new InferenceSession(TestAssets.MiniLmOnnxPath);
        PoolerOutputName = Session.OutputMetadata.Keys.Single(k => k != "last_hidden_state");
    }

    /// <summary>The imported Hugging Face directory.</summary>
    public string Directory { get; }

    public TimeSpan ImportTime { get; }

    /// <summary>ONNX Runtime on the original file: the independent reference.</summary>
    public InferenceSession Session { get; }

    public string PoolerOutputName { get; }

    public void Dispose()
    {
        Session.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
