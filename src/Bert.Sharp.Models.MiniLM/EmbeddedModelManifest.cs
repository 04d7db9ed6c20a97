using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bert.Sharp.Models;

/// <summary>
/// What the build embedded in Bert.Sharp.Models.MiniLM: the model's files (paths relative to the model folder, with
/// <c>/</c>), their lengths and SHA-256. Written by the build-time converter (tools/MiniLmConverter, which compiles this
/// file too), read at run time to extract the files and to recognise a complete cache: the cache's marker is this
/// manifest's text, so any change to the embedded files or to <see cref="CurrentFormat"/> invalidates older caches.
/// </summary>
internal sealed record EmbeddedModelManifest
{
    /// <summary>
    /// Bump when the folder's layout changes. 2: the runtime ONNX import with the legacy <c>bert_sharp_pooling</c> key;
    /// 3: converted at build time, sentence-transformers files (pooling in <c>1_Pooling/config.json</c>), tokenizer.json.
    /// </summary>
    public const int CurrentFormat = 3;

    /// <summary>Manifest resource holding this manifest.</summary>
    public const string ResourceName = "all-MiniLM-L6-v2/manifest.json";

    /// <summary>Prefix of the resource holding each file: the prefix followed by <see cref="ModelFile.Path"/>.</summary>
    public const string FileResourcePrefix = "all-MiniLM-L6-v2/files/";

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>The model's name.</summary>
    public required string Model { get; init; }

    /// <summary>The layout version, <see cref="CurrentFormat"/> when written by this code.</summary>
    public required int Format { get; init; }

    /// <summary>Where the weights came from (package, resource, SHA-256 of the ONNX file).</summary>
    public required string Source { get; init; }

    /// <summary>Every file of the model folder.</summary>
    public required IReadOnlyList<ModelFile> Files { get; init; }

    public string Serialize() => JsonSerializer.Serialize(this, Options) + "\n";

    public static EmbeddedModelManifest Parse(string json, string origin)
    {
        try
        {
            EmbeddedModelManifest manifest = JsonSerializer.Deserialize<EmbeddedModelManifest>(json, Options)
                ?? throw new InvalidDataException($"{origin} is empty.");
            if (manifest.Files.Count == 0 || manifest.Files.Any(f => string.IsNullOrEmpty(f.Path) || f.Path.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(f.Path) || f.Length < 0))
            {
                throw new InvalidDataException($"{origin} lists no files, or a file with an empty, rooted or '..' path, or a negative length.");
            }

            return manifest;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{origin} is not a valid model manifest: {e.Message}", e);
        }
    }

    /// <summary>One file of the model folder.</summary>
    /// <param name="Path">Relative to the model folder, with <c>/</c> separators.</param>
    /// <param name="Length">Size in bytes.</param>
    /// <param name="Sha256">Lower-case hex SHA-256 of the content.</param>
    internal sealed record ModelFile(
        [property: JsonPropertyName("path")] string Path,
        [property: JsonPropertyName("length")] long Length,
        [property: JsonPropertyName("sha256")] string Sha256);
}
