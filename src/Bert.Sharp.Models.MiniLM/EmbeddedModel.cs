using System.Reflection;

namespace Bert.Sharp.Models;

/// <summary>
/// The all-MiniLM-L6-v2 folder embedded in this assembly by the build (see EmbedModel.targets): one manifest resource
/// per file plus <see cref="EmbeddedModelManifest"/>.
/// </summary>
internal static class EmbeddedModel
{
    private static readonly Lazy<(string Text, EmbeddedModelManifest Manifest)> ManifestLazy = new(ReadManifest);

    private static Assembly Assembly => typeof(EmbeddedModel).Assembly;

    /// <summary>The manifest's exact text: the marker that identifies a complete cache of this very model.</summary>
    public static string ManifestText => ManifestLazy.Value.Text;

    public static EmbeddedModelManifest Manifest => ManifestLazy.Value.Manifest;

    /// <summary>Writes every file of the model under <paramref name="directory"/>.</summary>
    public static void ExtractTo(string directory)
    {
        foreach (EmbeddedModelManifest.ModelFile file in Manifest.Files)
        {
            string resource = EmbeddedModelManifest.FileResourcePrefix + file.Path;
            using Stream source = Open(resource);
            if (source.Length != file.Length)
            {
                throw new InvalidDataException($"Resource '{resource}' of {Assembly.GetName().Name} has {source.Length} bytes; its manifest says {file.Length}.");
            }

            string path = PathOf(directory, file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
            source.CopyTo(output, 1 << 20);
        }
    }

    /// <summary>True when every file of the manifest is in <paramref name="directory"/> with its length.</summary>
    public static bool HasAllFiles(string directory) => Manifest.Files.All(f =>
    {
        var info = new FileInfo(PathOf(directory, f));
        return info.Exists && info.Length == f.Length;
    });

    /// <summary>
    /// The first file in <paramref name="directory"/> (searched recursively) that is neither a file of the manifest nor
    /// <paramref name="markerFile"/>, as a path relative to it; <c>null</c> when the folder holds nothing else, so that
    /// replacing it cannot lose anything of the user's.
    /// </summary>
    public static string? FirstForeignFile(string directory, string markerFile)
    {
        var known = new HashSet<string>(Manifest.Files.Select(f => f.Path), StringComparer.Ordinal) { markerFile };
        return Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(directory, f).Replace(Path.DirectorySeparatorChar, '/'))
            .FirstOrDefault(relative => !known.Contains(relative));
    }

    private static string PathOf(string directory, EmbeddedModelManifest.ModelFile file) =>
        Path.Combine(directory, file.Path.Replace('/', Path.DirectorySeparatorChar));

    private static (string, EmbeddedModelManifest) ReadManifest()
    {
        using var reader = new StreamReader(Open(EmbeddedModelManifest.ResourceName));
        string text = reader.ReadToEnd();
        return (text, EmbeddedModelManifest.Parse(text, $"Resource '{EmbeddedModelManifest.ResourceName}' of {Assembly.GetName().Name}"));
    }

    private static Stream Open(string resource) =>
        Assembly.GetManifestResourceStream(resource)
        ?? throw new InvalidOperationException($"Resource '{resource}' is missing from {Assembly.FullName}: the model was not embedded at build time.");
}
