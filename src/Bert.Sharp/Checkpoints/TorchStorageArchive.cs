using System.IO.Compression;
using static TorchSharp.torch;

namespace Bert.Sharp.Checkpoints;

/// <summary>
/// The storages of a <c>torch.save</c> zip: describes each one from its zip entry (without reading it) when the pickle
/// refers to it, and reads each one once, when a tensor needs its data.
/// </summary>
/// <remarks>
/// <c>torch.save</c> stores every entry uncompressed, so a storage's size is its entry's real length: an entry whose
/// compressed and uncompressed lengths differ (deflated by some other tool, or a decompression bomb) or is encrypted is
/// refused, and the element count the pickle declares must match the entry exactly. What a file can make us allocate is
/// therefore bounded by what it holds.
/// </remarks>
internal sealed class TorchStorageArchive(ZipArchive archive, string prefix, string path) : IDisposable
{
    private readonly Dictionary<string, TorchStorageRef> described = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tensor> loaded = new(StringComparer.Ordinal);

    /// <summary>Sum of the elements of every storage described so far.</summary>
    public long TotalElements { get; private set; }

    /// <summary>
    /// The storage <paramref name="key"/> as the pickle declares it (<paramref name="dtype"/>, <paramref name="declaredElements"/>),
    /// checked against its zip entry.
    /// </summary>
    /// <exception cref="InvalidDataException">The entry is missing, compressed, encrypted, or of another length; or the key is
    /// used with two types.</exception>
    public TorchStorageRef Describe(string key, ScalarType dtype, long declaredElements)
    {
        if (described.TryGetValue(key, out TorchStorageRef? known))
        {
            if (known.DType != dtype || known.Elements != declaredElements)
            {
                throw Invalid($"storage '{key}' is used as {known.Elements} × {known.DType} and as {declaredElements} × {dtype}");
            }

            return known;
        }

        string name = $"{prefix}data/{key}";
        ZipArchiveEntry entry = archive.GetEntry(name)
            ?? throw Invalid($"storage '{key}' is referenced but the entry '{name}' is missing");
        if (entry.IsEncrypted)
        {
            throw Invalid($"storage entry '{name}' is encrypted");
        }

        if (entry.CompressedLength != entry.Length)
        {
            throw Invalid($"storage entry '{name}' is compressed ({entry.CompressedLength} bytes stored for {entry.Length}); torch.save stores storages uncompressed, so the file was rewritten by another tool or crafted");
        }

        int size = SafeTensorsDType.SizeOf(dtype);
        if (entry.Length % size != 0 || entry.Length / size != declaredElements)
        {
            throw Invalid($"storage '{key}' is declared as {declaredElements} elements of {dtype} ({size} bytes each) but '{name}' has {entry.Length} bytes");
        }

        if (entry.Length > int.MaxValue)
        {
            throw Invalid($"storage '{key}' has {entry.Length} bytes; storages over 2 GiB are not supported (convert the checkpoint to sharded safetensors)");
        }

        var storage = new TorchStorageRef(key, dtype, declaredElements);
        described.Add(key, storage);
        TotalElements += declaredElements;
        return storage;
    }

    /// <summary>The storage's data as a flat CPU tensor, read on first use; owned by this archive.</summary>
    /// <exception cref="InvalidDataException">The entry cannot be read in full.</exception>
    public Tensor Read(TorchStorageRef storage)
    {
        if (loaded.TryGetValue(storage.Key, out Tensor? cached))
        {
            return cached;
        }

        string name = $"{prefix}data/{storage.Key}";
        ZipArchiveEntry entry = archive.GetEntry(name) ?? throw Invalid($"the entry '{name}' is missing");
        Tensor data = empty(storage.Elements, storage.DType, CPU);
        loaded.Add(storage.Key, data);
        if (storage.Elements > 0)
        {
            try
            {
                using Stream stream = entry.Open();
                stream.ReadExactly(data.bytes);
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                throw new InvalidDataException($"'{path}': storage entry '{name}' cannot be read ({e.Message}); the file is truncated or corrupt.", e);
            }
        }

        return data;
    }

    public void Dispose()
    {
        foreach (Tensor t in loaded.Values)
        {
            t.Dispose();
        }

        loaded.Clear();
    }

    private InvalidDataException Invalid(string message) => new($"'{path}': {message}.");
}
