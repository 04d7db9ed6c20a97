using System.Buffers.Binary;
using System.Text.Json;
using Bert.Sharp.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Checkpoints;

/// <summary>
/// Reads and writes the safetensors format (<c>model.safetensors</c>): an 8-byte little-endian header length, a JSON
/// header mapping each tensor name to its dtype, shape and byte range, then the raw little-endian data. The header is
/// validated in full before a byte of tensor data is read, so a corrupt file fails with a message naming the file and
/// the entry at fault instead of a crash in native code.
/// </summary>
/// <remarks>The header checks are in <see cref="SafeTensorsHeader"/>.</remarks>
internal static class SafeTensors
{
    /// <summary>Largest header accepted.</summary>
    internal const long MaxHeaderSize = SafeTensorsHeader.MaxHeaderSize;

    /// <summary>Most dimensions of a tensor.</summary>
    internal const int MaxRank = SafeTensorsHeader.MaxRank;

    private const string MetadataKey = SafeTensorsHeader.MetadataKey;

    /// <summary>
    /// Reads every tensor of <paramref name="path"/> into CPU tensors; each tensor's bytes are read once, straight into its
    /// storage. Floating-point tensors are converted to <paramref name="dtype"/> (default float32; <c>null</c> keeps the
    /// file's dtype); integer and boolean tensors keep theirs.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The header or the data section is malformed, or a floating-point tensor holds a NaN or an infinity; the message names the file and entry.</exception>
    public static Dictionary<string, Tensor> Load(string path, ScalarType? dtype = ScalarType.Float32)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        RequireLittleEndian();
        TorchRuntime.EnsureLoaded();
        using FileStream stream = OpenRead(path);
        (List<SafeTensorsHeader.Entry> entries, _, long dataStart) = SafeTensorsHeader.Read(stream, path);
        var result = new Dictionary<string, Tensor>(entries.Count, StringComparer.Ordinal);
        try
        {
            foreach (SafeTensorsHeader.Entry entry in entries)
            {
                Tensor tensor = empty(entry.Shape, entry.DType, CPU);
                result.Add(entry.Name, tensor);
                long length = entry.End - entry.Begin;
                if (length > 0)
                {
                    stream.Position = dataStart + entry.Begin;
                    ReadInto(stream, tensor, length, path, entry.Name);
                }

                if (dtype is ScalarType target && target != entry.DType && SafeTensorsDType.IsFloatingPoint(entry.DType))
                {
                    Tensor converted = tensor.to_type(target);
                    tensor.Dispose();
                    result[entry.Name] = converted;
                }

                FiniteWeights.Require(result[entry.Name], path, entry.Name);
            }
        }
        catch
        {
            StateDicts.Dispose(result);
            throw;
        }

        return result;
    }

    /// <summary>The string metadata of the header (<c>__metadata__</c>), for example <c>format: pt</c>; empty when there is none.</summary>
    /// <exception cref="InvalidDataException">The header is malformed.</exception>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream stream = OpenRead(path);
        return SafeTensorsHeader.Read(stream, path).Metadata;
    }

    /// <summary>The validated header entries and metadata of <paramref name="path"/>, read once, without reading tensor data.</summary>
    internal static (IReadOnlyList<SafeTensorsHeader.Entry> Entries, IReadOnlyDictionary<string, string> Metadata) ReadHeader(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream stream = OpenRead(path);
        (List<SafeTensorsHeader.Entry> entries, Dictionary<string, string> metadata, _) = SafeTensorsHeader.Read(stream, path);
        return (entries, metadata);
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> to <paramref name="path"/> atomically (temporary file, then rename): header keys
    /// sorted, data section 8-byte aligned, <c>"__metadata__": {"format": "pt"}</c> plus <paramref name="metadata"/>.
    /// Tensors are written in their own dtype, from CPU contiguous copies; the bytes round-trip exactly.
    /// </summary>
    /// <exception cref="ArgumentException">Two tensors share a name, or a name is empty or reserved.</exception>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        AtomicFile.Write(path, stream => Write(stream, tensors, metadata, path));
    }

    /// <summary>Writes <paramref name="tensors"/> in safetensors format to <paramref name="stream"/>; <paramref name="path"/> names the file in errors.</summary>
    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata, string path)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensors);
        RequireLittleEndian();
        var sorted = new SortedDictionary<string, Tensor>(StringComparer.Ordinal);
        foreach ((string name, Tensor tensor) in tensors)
        {
            ArgumentException.ThrowIfNullOrEmpty(name, nameof(tensors));
            ArgumentNullException.ThrowIfNull(tensor, nameof(tensors));
            if (name == MetadataKey)
            {
                throw new ArgumentException($"'{MetadataKey}' is reserved and cannot name a tensor.", nameof(tensors));
            }

            if (!sorted.TryAdd(name, tensor))
            {
                throw new ArgumentException($"Tensor name '{name}' appears twice.", nameof(tensors));
            }
        }

        using var scope = NewDisposeScope();
        var prepared = new List<(string Name, Tensor Data, long Begin, long End)>(sorted.Count);
        long offset = 0;
        foreach ((string name, Tensor tensor) in sorted)
        {
            Tensor data = tensor.detach().cpu().contiguous();
            long size = data.numel() * SafeTensorsDType.SizeOf(data.dtype);
            prepared.Add((name, data, offset, offset + size));
            offset += size;
        }

        byte[] header = BuildHeader(prepared.Select(p => (p.Name, p.Data.dtype, p.Data.shape, p.Begin, p.End)), metadata);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        foreach ((_, Tensor data, long begin, long end) in prepared)
        {
            if (end > begin)
            {
                stream.Write(Bytes(data, end - begin, path));
            }
        }
    }

    private static byte[] BuildHeader(IEnumerable<(string Name, ScalarType DType, long[] Shape, long Begin, long End)> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject(MetadataKey);
            var meta = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["format"] = "pt" };
            if (metadata is not null)
            {
                foreach ((string key, string value) in metadata)
                {
                    meta[key] = value;
                }
            }

            foreach ((string key, string value) in meta)
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();
            foreach ((string name, ScalarType dtype, long[] shape, long begin, long end) in entries)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", SafeTensorsDType.NameOf(dtype));
                json.WriteStartArray("shape");
                foreach (long dim in shape)
                {
                    json.WriteNumberValue(dim);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(begin);
                json.WriteNumberValue(end);
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        // Pad with spaces so the data section starts 8-byte aligned (8-byte length prefix + header).
        int padding = (int)((8 - (buffer.Length % 8)) % 8);
        for (int i = 0; i < padding; i++)
        {
            buffer.WriteByte((byte)' ');
        }

        return buffer.ToArray();
    }

    private static void ReadInto(FileStream stream, Tensor tensor, long length, string path, string name)
    {
        Span<byte> target = Bytes(tensor, length, path);
        int read = stream.ReadAtLeast(target, target.Length, throwOnEndOfStream: false);
        if (read != target.Length)
        {
            throw new InvalidDataException($"'{path}': tensor '{name}' ends past the end of the file; the file is truncated.");
        }
    }

    private static Span<byte> Bytes(Tensor tensor, long length, string path)
    {
        Span<byte> bytes = tensor.bytes;
        if (bytes.Length != length)
        {
            throw new InvalidOperationException($"'{path}': internal size mismatch ({bytes.Length} bytes in the tensor, {length} expected).");
        }

        return bytes;
    }

    private static FileStream OpenRead(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Safetensors file '{path}' does not exist.", path);
        }

        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.RandomAccess);
    }

    private static void RequireLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("safetensors I/O is implemented for little-endian machines only.");
        }
    }
}
