using System.IO.Compression;
using static TorchSharp.torch;

namespace Bert.Sharp.Checkpoints;

/// <summary>
/// Reads PyTorch state dicts saved by <c>torch.save</c> (<c>pytorch_model.bin</c>: a zip holding <c>data.pkl</c> and one
/// entry per storage under <c>data/</c>). The pickle is read by <see cref="RestrictedUnpickler"/>, which only knows the
/// handful of globals a state dict uses and never runs code from the file.
/// </summary>
internal static class TorchPickleCheckpoint
{
    /// <summary>Loads every tensor of <paramref name="path"/> onto the CPU; floating-point tensors become float32.</summary>
    /// <exception cref="InvalidDataException">The file is not a zip-format torch checkpoint, or its pickle uses anything but a state dict's globals.</exception>
    public static Dictionary<string, Tensor> Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"PyTorch checkpoint '{path}' does not exist.", path);
        }

        TorchRuntime.EnsureLoaded();
        ZipArchive archive;
        try
        {
            archive = ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{path}' is not a zip-format PyTorch checkpoint (files from torch < 1.6 use the legacy format; re-save them with a recent torch or convert to safetensors): {e.Message}", e);
        }

        using (archive)
        {
            ZipArchiveEntry pickle = archive.Entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1)
                ?? throw new InvalidDataException($"'{path}' has no '<archive>/data.pkl' entry; it is not a torch.save checkpoint.");
            string prefix = pickle.FullName[..^"data.pkl".Length];
            byte[] bytes;
            using (Stream stream = pickle.Open())
            using (var buffer = new MemoryStream())
            {
                stream.CopyTo(buffer);
                bytes = buffer.ToArray();
            }

            using var storages = new StorageReader(archive, prefix, path);
            object? root = new RestrictedUnpickler(bytes, storages, path).Load();
            if (root is not PickleDict dict)
            {
                throw new InvalidDataException($"'{path}' does not hold a state dict (a dict of tensors) but a {root?.GetType().Name ?? "None"}.");
            }

            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            try
            {
                foreach ((object? key, object? value) in dict.Items)
                {
                    if (key is not string name || value is not Tensor tensor)
                    {
                        throw new InvalidDataException($"'{path}': state dict entry '{key}' is not a tensor.");
                    }

                    using Tensor contiguous = tensor.contiguous();
                    Tensor owned = SafeTensorsDType.IsFloatingPoint(tensor.dtype) && tensor.dtype != ScalarType.Float32
                        ? contiguous.to_type(ScalarType.Float32)
                        : contiguous.clone();
                    if (!result.TryAdd(name, owned))
                    {
                        owned.Dispose();
                        throw new InvalidDataException($"'{path}': key '{name}' appears twice.");
                    }
                }
            }
            catch
            {
                foreach (Tensor t in result.Values)
                {
                    t.Dispose();
                }

                throw;
            }
            finally
            {
                foreach (Tensor view in dict.Items.Select(i => i.Value).OfType<Tensor>())
                {
                    view.Dispose();
                }
            }

            return result;
        }
    }

    /// <summary>Loads each storage (<c>&lt;archive&gt;/data/&lt;key&gt;</c>) once, into a flat CPU tensor.</summary>
    internal sealed class StorageReader(ZipArchive archive, string prefix, string path) : IDisposable
    {
        private readonly Dictionary<string, Tensor> cache = new(StringComparer.Ordinal);

        public Tensor Get(string key, ScalarType dtype, long elements)
        {
            if (cache.TryGetValue(key, out Tensor? cached))
            {
                if (cached.dtype != dtype || cached.numel() < elements)
                {
                    throw new InvalidDataException($"'{path}': storage '{key}' is used with two different types or sizes.");
                }

                return cached;
            }

            ZipArchiveEntry entry = archive.GetEntry($"{prefix}data/{key}")
                ?? throw new InvalidDataException($"'{path}': storage '{key}' is referenced but '{prefix}data/{key}' is missing.");
            long bytes = elements * SafeTensorsDType.SizeOf(dtype);
            if (elements < 0 || entry.Length != bytes || bytes > int.MaxValue)
            {
                throw new InvalidDataException($"'{path}': storage '{key}' should hold {elements} elements of {dtype} ({bytes} bytes) but '{entry.FullName}' has {entry.Length} bytes.");
            }

            Tensor storage = empty(elements, dtype, CPU);
            cache[key] = storage;
            if (bytes > 0)
            {
                using Stream stream = entry.Open();
                stream.ReadExactly(storage.bytes);
            }

            return storage;
        }

        public void Dispose()
        {
            foreach (Tensor t in cache.Values)
            {
                t.Dispose();
            }
        }
    }
}
