using System.Security.Cryptography;
using System.Text;

namespace Bert.Sharp.Benchmarks.Support;

/// <summary>
/// Folders for exports that benchmarks reuse between runs, named after what made them: the Bert.Sharp build (its module
/// version id, which a deterministic build changes with the code) and the source model (path, and its weights' size and
/// time). An export left by an older exporter or from a retrained model is never timed as if it were current.
/// </summary>
internal static class ExportCache
{
    /// <summary>The folder for <paramref name="name"/>'s exports of <paramref name="modelDirectory"/> (none: a model the benchmark builds itself).</summary>
    public static string Folder(string name, string? modelDirectory = null)
    {
        var key = new StringBuilder(typeof(OnnxExporter).Assembly.ManifestModule.ModuleVersionId.ToString("N"));
        if (modelDirectory is not null)
        {
            string full = Path.GetFullPath(modelDirectory);
            key.Append('|').Append(full);
            foreach (string file in Directory.EnumerateFiles(full, "*.safetensors").Order(StringComparer.Ordinal))
            {
                var info = new FileInfo(file);
                key.Append('|').Append(info.Name).Append(':').Append(info.Length).Append(':').Append(info.LastWriteTimeUtc.Ticks);
            }
        }

        string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key.ToString())))[..16];
        return Path.Combine(Path.GetTempPath(), "bert-sharp-benchmarks", $"{name}-{hash}");
    }
}
