using System.Text.Json;
using Bert.Sharp.IO;
using static TorchSharp.torch;

namespace Bert.Sharp.Checkpoints;

/// <summary>
/// Finds and reads the weight files of a Hugging Face model directory, in the order Hugging Face prefers them:
/// <c>model.safetensors</c>, the sharded <c>model.safetensors.index.json</c>, <c>pytorch_model.bin</c>, the sharded
/// <c>pytorch_model.bin.index.json</c>.
/// </summary>
internal static class CheckpointFiles
{
    /// <summary>Largest shard index read (the index of a 100-billion-parameter model is a few megabytes).</summary>
    internal const long MaxIndexBytes = 64 << 20;

    private static readonly string[] LookedFor = [FolderFileNames.SafeTensorsWeights, FolderFileNames.SafeTensorsWeightsIndex, FolderFileNames.PyTorchWeights, FolderFileNames.PyTorchWeightsIndex];

    /// <summary>Whether <paramref name="directory"/> holds any weight file this class reads.</summary>
    public static bool HasWeights(string directory) => LookedFor.Any(name => File.Exists(Path.Combine(directory, name)));

    /// <summary>
    /// Loads every tensor of the directory's weights onto the CPU, in the file's floating-point dtype converted to float32.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">No weight file is there; the message names the directory and the files looked for.</exception>
    /// <exception cref="InvalidDataException">A weight file or index is malformed; the message names it.</exception>
    public static Dictionary<string, Tensor> LoadStateDict(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Model directory '{directory}' does not exist.");
        }

        string single = Path.Combine(directory, FolderFileNames.SafeTensorsWeights);
        if (File.Exists(single))
        {
            return SafeTensors.Load(single);
        }

        string index = Path.Combine(directory, FolderFileNames.SafeTensorsWeightsIndex);
        if (File.Exists(index))
        {
            return LoadSharded(directory, index, shard => SafeTensors.Load(shard));
        }

        string bin = Path.Combine(directory, FolderFileNames.PyTorchWeights);
        if (File.Exists(bin))
        {
            return TorchPickleCheckpoint.Load(bin);
        }

        string binIndex = Path.Combine(directory, FolderFileNames.PyTorchWeightsIndex);
        if (File.Exists(binIndex))
        {
            return LoadSharded(directory, binIndex, TorchPickleCheckpoint.Load);
        }

        throw new FileNotFoundException(
            $"No model weights in '{directory}': looked for {string.Join(", ", LookedFor)}.",
            Path.Combine(directory, FolderFileNames.SafeTensorsWeights));
    }

    /// <summary>
    /// Adds <c>model.safetensors</c> to a model folder save, and marks the weight files it supersedes for deletion
    /// (<c>pytorch_model.bin</c>, sharded indexes and the shards they list): left behind, they could be loaded instead.
    /// </summary>
    public static void AddWeights(ModelFolderWriter writer, string directory, IReadOnlyDictionary<string, Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(tensors);
        writer.Add(FolderFileNames.SafeTensorsWeights, stream => SafeTensors.Write(stream, tensors, null, Path.Combine(directory, FolderFileNames.SafeTensorsWeights)));
        writer.RemoveIfPresent(FolderFileNames.PyTorchWeights);

        // A full model supersedes an adapter saved here before: left behind, the folder would load as base + adapter.
        writer.RemoveIfPresent(FolderFileNames.AdapterConfig);
        writer.RemoveIfPresent(FolderFileNames.AdapterWeights);
        foreach (string index in new[] { FolderFileNames.SafeTensorsWeightsIndex, FolderFileNames.PyTorchWeightsIndex })
        {
            string path = Path.Combine(directory, index);
            if (!File.Exists(path))
            {
                continue;
            }

            writer.RemoveIfPresent(index);
            try
            {
                foreach (string shard in ReadWeightMap(path).Values.Distinct(StringComparer.Ordinal))
                {
                    if (!shard.Contains('/', StringComparison.Ordinal) && !shard.Contains('\\', StringComparison.Ordinal) && shard != FolderFileNames.SafeTensorsWeights)
                    {
                        writer.RemoveIfPresent(shard);
                    }
                }
            }
            catch (InvalidDataException)
            {
                // A damaged index is removed; its shards, unknown, stay.
            }
        }
    }

    private static Dictionary<string, Tensor> LoadSharded(string directory, string indexPath, Func<string, Dictionary<string, Tensor>> loadShard)
    {
        Dictionary<string, string> weightMap = ReadWeightMap(indexPath);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (string shard in weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                if (shard.Contains('\0', StringComparison.Ordinal) || Path.IsPathRooted(shard))
                {
                    throw new InvalidDataException($"'{indexPath}': shard '{shard.Replace("\0", "\\0", StringComparison.Ordinal)}' is not a file name inside the model directory.");
                }

                string shardPath = Path.GetFullPath(Path.Combine(directory, shard));
                string root = Path.GetFullPath(directory) + Path.DirectorySeparatorChar;
                if (!shardPath.StartsWith(root, StringComparison.Ordinal) || shard.Contains("..", StringComparison.Ordinal))
                {
                    throw new InvalidDataException($"'{indexPath}': shard '{shard}' is outside the model directory.");
                }

                if (!File.Exists(shardPath))
                {
                    throw new FileNotFoundException($"'{indexPath}' names shard '{shard}', which does not exist in '{directory}'.", shardPath);
                }

                foreach ((string key, Tensor tensor) in loadShard(shardPath))
                {
                    if (!result.TryAdd(key, tensor))
                    {
                        tensor.Dispose();
                        throw new InvalidDataException($"Tensor '{key}' appears in more than one shard of '{indexPath}' (again in '{shard}').");
                    }
                }
            }

            string[] absent = weightMap.Keys.Where(k => !result.ContainsKey(k)).Take(5).ToArray();
            if (absent.Length > 0)
            {
                throw new InvalidDataException($"'{indexPath}' lists tensors its shards do not hold: {string.Join(", ", absent)}.");
            }
        }
        catch
        {
            StateDicts.Dispose(result);
            throw;
        }

        return result;
    }

    private static Dictionary<string, string> ReadWeightMap(string indexPath)
    {
        long length = new FileInfo(indexPath).Length;
        if (length > MaxIndexBytes)
        {
            throw new InvalidDataException($"'{indexPath}' has {length} bytes; a shard index is at most {MaxIndexBytes} bytes.");
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(Utf8JsonInput.Prepare(File.ReadAllBytes(indexPath), $"'{indexPath}'"));
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("weight_map", out JsonElement map)
                || map.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"'{indexPath}' has no 'weight_map' object.");
            }

            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (JsonProperty item in map.EnumerateObject())
            {
                if (item.Value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(item.Value.GetString()))
                {
                    throw new InvalidDataException($"'{indexPath}': weight_map entry '{item.Name}' is not a file name.");
                }

                if (!result.TryAdd(item.Name, item.Value.GetString()!))
                {
                    throw new InvalidDataException($"'{indexPath}': weight_map names tensor '{item.Name}' twice.");
                }
            }

            return result;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{indexPath}' is not valid JSON: {e.Message}", e);
        }
    }
}
