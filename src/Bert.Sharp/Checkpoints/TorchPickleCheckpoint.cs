using System.IO.Compression;
using static TorchSharp.torch;

namespace Bert.Sharp.Checkpoints;

/// <summary>
/// Reads PyTorch state dicts saved by <c>torch.save</c> (<c>pytorch_model.bin</c>: a zip holding <c>data.pkl</c> and one
/// entry per storage under <c>data/</c>). The pickle is read by <see cref="RestrictedUnpickler"/>, which only knows the
/// handful of globals a state dict uses and never runs code from the file.
/// </summary>
/// <remarks>
/// What a file can cost is bounded by its size: <c>data.pkl</c> is read with a cap (<see cref="PickleLimit"/>), storages
/// must be stored uncompressed with exactly the declared length, every tensor must lie within its storage and hold no
/// more elements than it, and all tensors together at most <see cref="ElementBudgetFactor"/> times the elements of the
/// storages — so a file makes at most a few times its own size in tensors. Nothing is allocated for tensors until the
/// whole pickle has been read and checked.
/// </remarks>
internal static class TorchPickleCheckpoint
{
    /// <summary>Largest <c>data.pkl</c> read (a state dict of 100,000 tensors needs about 15 MB).</summary>
    internal const int MaxPickleBytes = 64 << 20;

    /// <summary>
    /// All tensors of a file together may hold at most this many times the elements of its storages (tied weights make
    /// two tensors of one storage; a stride-0 view could otherwise make 10^9 elements of one).
    /// </summary>
    internal const int ElementBudgetFactor = 4;

    /// <summary>The most bytes of <c>data.pkl</c> read for a file of <paramref name="fileLength"/> bytes.</summary>
    /// <remarks><c>torch.save</c> stores <c>data.pkl</c> uncompressed, so it is never longer than the file; a deflated one
    /// (some zip tools recompress) may expand 16-fold, never to more than <see cref="MaxPickleBytes"/>.</remarks>
    internal static int PickleLimit(long fileLength) => (int)Math.Min(MaxPickleBytes, (64 << 10) + (16 * fileLength));

    /// <summary>Loads every tensor of <paramref name="path"/> onto the CPU; floating-point tensors become float32.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a zip-format torch checkpoint, its pickle uses anything but a
    /// state dict's globals, a tensor or storage is malformed or out of bounds, or a floating-point tensor holds a NaN or an
    /// infinity; the message names the file.</exception>
    public static Dictionary<string, Tensor> Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"PyTorch checkpoint '{path}' does not exist.", path);
        }

        TorchRuntime.EnsureLoaded();
        long fileLength = new FileInfo(path).Length;
        ZipArchive archive;
        try
        {
            archive = ZipFile.OpenRead(path);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException)
        {
            throw new InvalidDataException($"'{path}' is not a zip-format PyTorch checkpoint (files from torch < 1.6 use the legacy format; re-save them with a recent torch or convert to safetensors): {e.Message}", e);
        }

        using (archive)
        {
            IReadOnlyCollection<ZipArchiveEntry> entries;
            try
            {
                // The central directory is read on first access; its errors are the file's.
                entries = archive.Entries;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException)
            {
                throw new InvalidDataException($"'{path}': the zip's central directory is corrupt: {e.Message}", e);
            }

            ZipArchiveEntry pickle = entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1)
                ?? throw new InvalidDataException($"'{path}' has no '<archive>/data.pkl' entry; it is not a torch.save checkpoint.");
            string prefix = pickle.FullName[..^"data.pkl".Length];
            CheckByteOrder(archive, prefix, path);
            (byte[] bytes, int length) = ReadPickle(pickle, PickleLimit(fileLength), path);

            using var storages = new TorchStorageArchive(archive, prefix, path);
            object? root = new RestrictedUnpickler(bytes, length, storages, path).Load();
            if (root is not PickleDict dict)
            {
                throw new InvalidDataException($"'{path}' does not hold a state dict (a dict of tensors) but a {root?.GetType().Name ?? "None"}.");
            }

            List<(string Name, TorchTensorView View)> views = CheckViews(dict, storages.TotalElements, path);
            return Materialize(views, storages, path);
        }
    }

    private static void CheckByteOrder(ZipArchive archive, string prefix, string path)
    {
        // torch >= 2.1 records the byte order; storages are written in the saving machine's order.
        ZipArchiveEntry? entry = archive.GetEntry(prefix + "byteorder");
        if (entry is null)
        {
            return;
        }

        byte[] text = new byte[16];
        int read;
        try
        {
            using Stream stream = entry.Open();
            read = stream.ReadAtLeast(text, text.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw new InvalidDataException($"'{path}': the entry '{entry.FullName}' cannot be read: {e.Message}", e);
        }

        string order = System.Text.Encoding.ASCII.GetString(text, 0, read).Trim();
        if (order != "little")
        {
            throw new InvalidDataException($"'{path}': storages are stored in '{order}' byte order; only little-endian checkpoints are supported.");
        }
    }

    private static (byte[] Bytes, int Length) ReadPickle(ZipArchiveEntry pickle, int limit, string path)
    {
        if (pickle.Length > limit)
        {
            throw new InvalidDataException($"'{path}': '{pickle.FullName}' declares {pickle.Length} bytes, more than the {limit}-byte limit for a file of this size.");
        }

        // Read at most limit + 1 bytes whatever the entry declares: a deflate bomb stops here.
        byte[] buffer = new byte[Math.Min(limit + 1L, Math.Max(pickle.Length, 4096) + 1)];
        int length = 0;
        try
        {
            using Stream stream = pickle.Open();
            int read;
            do
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        break;
                    }

                    Array.Resize(ref buffer, (int)Math.Min(limit + 1L, buffer.Length * 2L));
                }

                read = stream.Read(buffer, length, buffer.Length - length);
                length += read;
            }
            while (read > 0);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw new InvalidDataException($"'{path}': '{pickle.FullName}' cannot be read: {e.Message}", e);
        }

        if (length > limit)
        {
            throw new InvalidDataException($"'{path}': '{pickle.FullName}' expands past the {limit}-byte limit for a file of this size (a compressed pickle bomb, or a corrupt entry).");
        }

        return (buffer, length);
    }

    private static List<(string Name, TorchTensorView View)> CheckViews(PickleDict dict, long storageElements, string path)
    {
        var views = new List<(string, TorchTensorView)>(dict.Count);
        long budget = ElementBudgetFactor * storageElements;
        long total = 0;
        foreach ((object? key, object? value) in dict.Items)
        {
            if (key is not string name)
            {
                throw new InvalidDataException($"'{path}': a state dict key is a {key?.GetType().Name ?? "None"}, not a string.");
            }

            if (value is not TorchTensorView view)
            {
                throw new InvalidDataException($"'{path}': state dict entry '{name}' is a {value?.GetType().Name ?? "None"}, not a tensor.");
            }

            total += view.Elements;
            if (total > budget)
            {
                throw new InvalidDataException($"'{path}': the tensors up to '{name}' hold {total} elements, more than {ElementBudgetFactor}× the {storageElements} elements of the file's storages; views that repeat storage data this often are refused.");
            }

            views.Add((name, view));
        }

        return views;
    }

    private static Dictionary<string, Tensor> Materialize(List<(string Name, TorchTensorView View)> views, TorchStorageArchive storages, string path)
    {
        var result = new Dictionary<string, Tensor>(views.Count, StringComparer.Ordinal);
        try
        {
            foreach ((string name, TorchTensorView view) in views)
            {
                Tensor storage = storages.Read(view.Storage);
                using Tensor strided = storage.as_strided(view.Size, view.Stride, view.Offset);
                using Tensor contiguous = strided.contiguous();
                Tensor owned = SafeTensorsDType.IsFloatingPoint(view.Storage.DType) && view.Storage.DType != ScalarType.Float32
                    ? contiguous.to_type(ScalarType.Float32)
                    : contiguous.clone();
                result.Add(name, owned);
                FiniteWeights.Require(owned, path, name);
            }
        }
        catch
        {
            StateDicts.Dispose(result);
            throw;
        }

        return result;
    }
}
