using System.Buffers.Binary;
using System.Text.Json;
using Bert.Sharp.IO;
using static TorchSharp.torch;

namespace Bert.Sharp.Checkpoints;

/// <summary>
/// Reads and validates the header of a safetensors file: the 8-byte little-endian length, then a JSON object mapping
/// each tensor name to its dtype, shape and byte range, and an optional <c>__metadata__</c> object of strings.
/// </summary>
/// <remarks>
/// The checks are those of the reference implementation: the header is at most <see cref="MaxHeaderSize"/> bytes of
/// UTF-8 JSON object; every name appears once; every dtype is known; shape × element size equals the entry's byte span
/// (checked arithmetic); and the entries, sorted by offset, tile the data section exactly — no gap, no overlap, nothing
/// past the end, nothing left over. So the tensors made from a file are never larger than the file.
/// </remarks>
internal static class SafeTensorsHeader
{
    /// <summary>Largest header accepted (the reference implementation's limit), so a corrupt length cannot allocate gigabytes.</summary>
    internal const long MaxHeaderSize = 100_000_000;

    /// <summary>Most dimensions of a tensor (PyTorch's own kernels stop at 25).</summary>
    internal const int MaxRank = 64;

    /// <summary>The reserved key of the string metadata.</summary>
    internal const string MetadataKey = "__metadata__";

    /// <summary>One tensor entry of the header.</summary>
    internal sealed record Entry(string Name, ScalarType DType, long[] Shape, long Begin, long End);

    /// <summary>Reads the header from the start of <paramref name="stream"/>: its entries, its metadata, and where the data section starts.</summary>
    /// <exception cref="InvalidDataException">The header is malformed; the message names the file and the entry.</exception>
    public static (List<Entry> Entries, Dictionary<string, string> Metadata, long DataStart) Read(FileStream stream, string path)
    {
        long fileLength = stream.Length;
        if (fileLength < 8)
        {
            throw new InvalidDataException($"'{path}' is not a safetensors file: it has {fileLength} bytes, fewer than the 8-byte header length.");
        }

        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)(fileLength - 8))
        {
            throw new InvalidDataException($"'{path}' is truncated or not a safetensors file: the header length {headerLength} runs past the end of the file ({fileLength} bytes).");
        }

        if (headerLength > MaxHeaderSize)
        {
            throw new InvalidDataException($"'{path}': the header length {headerLength} exceeds the {MaxHeaderSize}-byte limit.");
        }

        byte[] header = new byte[(int)headerLength];
        stream.ReadExactly(header);
        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(Utf8JsonInput.Prepare(header, $"'{path}': the safetensors header"));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}': the safetensors header is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"'{path}': the safetensors header is JSON {document.RootElement.ValueKind}, not an object.");
            }

            var entries = new List<Entry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name))
                {
                    throw new InvalidDataException($"'{path}': the header names '{property.Name}' twice.");
                }

                if (property.Name == MetadataKey)
                {
                    ReadMetadataObject(property.Value, metadata, path);
                    continue;
                }

                Entry entry = ParseEntry(property, path);
                if (entry.End > dataLength)
                {
                    throw new InvalidDataException($"'{path}': tensor '{entry.Name}' has data_offsets [{entry.Begin}, {entry.End}] past the end of the data section ({dataLength} bytes); the file is truncated or corrupt.");
                }

                entries.Add(entry);
            }

            CheckCoverage(entries, dataLength, path);
            return (entries, metadata, dataStart);
        }
    }

    private static void ReadMetadataObject(JsonElement element, Dictionary<string, string> metadata, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"'{path}': '{MetadataKey}' must be an object of strings, got {element.ValueKind}.");
        }

        foreach (JsonProperty item in element.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw new InvalidDataException($"'{path}': metadata '{item.Name}' must be a string, got {item.Value.ValueKind}.");
            }

            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static Entry ParseEntry(JsonProperty property, string path)
    {
        string name = property.Name;
        JsonElement value = property.Value;
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"'{path}': tensor '{name}' is described by JSON {value.ValueKind}, not an object.");
        }

        if (!value.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw new InvalidDataException($"'{path}': tensor '{name}' has no string 'dtype'.");
        }

        string dtypeName = dtypeElement.GetString()!;
        if (!SafeTensorsDType.TryParse(dtypeName, out ScalarType dtype))
        {
            throw new InvalidDataException($"'{path}': tensor '{name}' has dtype '{dtypeName}', which is not supported (supported: {string.Join(", ", SafeTensorsDType.Names)}).");
        }

        long[] shape = ReadLongArray(value, "shape", name, path);
        if (shape.Length > MaxRank)
        {
            throw new InvalidDataException($"'{path}': tensor '{name}' has {shape.Length} dimensions; at most {MaxRank} are supported.");
        }

        long[] offsets = ReadLongArray(value, "data_offsets", name, path);
        if (offsets.Length != 2)
        {
            throw new InvalidDataException($"'{path}': tensor '{name}' has {offsets.Length} data_offsets; expected [begin, end].");
        }

        long begin = offsets[0], end = offsets[1];
        if (begin < 0 || end < begin)
        {
            throw new InvalidDataException($"'{path}': tensor '{name}' has invalid data_offsets [{begin}, {end}].");
        }

        long elements = 1;
        long strides = 1;
        foreach (long dim in shape)
        {
            if (dim < 0)
            {
                throw new InvalidDataException($"'{path}': tensor '{name}' has a negative dimension in shape [{string.Join(", ", shape)}].");
            }

            try
            {
                elements = checked(elements * dim);

                // torch computes strides as products of the trailing sizes (a 0 counting as 1), even for an empty
                // tensor: [0, 1, 2, ..., 40] holds nothing but overflows them inside native code.
                strides = checked(strides * Math.Max(dim, 1));
            }
            catch (OverflowException)
            {
                throw new InvalidDataException($"'{path}': tensor '{name}' has shape [{string.Join(", ", shape)}], too large to address.");
            }
        }

        long expectedBytes;
        try
        {
            expectedBytes = checked(elements * SafeTensorsDType.SizeOf(dtype));
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"'{path}': tensor '{name}' has shape [{string.Join(", ", shape)}], too large to address.");
        }

        if (expectedBytes != end - begin)
        {
            throw new InvalidDataException($"'{path}': tensor '{name}' has shape [{string.Join(", ", shape)}] and dtype {dtypeName} ({expectedBytes} bytes) but data_offsets [{begin}, {end}] span {end - begin} bytes.");
        }

        if (expectedBytes > int.MaxValue)
        {
            throw new InvalidDataException($"'{path}': tensor '{name}' has {expectedBytes} bytes; tensors over 2 GiB are not supported.");
        }

        return new Entry(name, dtype, shape, begin, end);
    }

    private static long[] ReadLongArray(JsonElement value, string key, string name, string path)
    {
        if (!value.TryGetProperty(key, out JsonElement array) || array.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"'{path}': tensor '{name}' has no '{key}' array.");
        }

        var result = new long[array.GetArrayLength()];
        int i = 0;
        foreach (JsonElement item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long number))
            {
                throw new InvalidDataException($"'{path}': tensor '{name}' has a non-integer in '{key}': {item.GetRawText()}.");
            }

            result[i++] = number;
        }

        return result;
    }

    // As the reference implementation: sorted by offset, the entries tile [0, dataLength) exactly.
    private static void CheckCoverage(List<Entry> entries, long dataLength, string path)
    {
        long expected = 0;
        Entry? previous = null;
        foreach (Entry entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (entry.Begin < expected)
            {
                throw new InvalidDataException($"'{path}': tensors '{previous!.Name}' [{previous.Begin}, {previous.End}] and '{entry.Name}' [{entry.Begin}, {entry.End}] overlap.");
            }

            if (entry.Begin > expected)
            {
                string after = previous is null ? "the start of the data section" : $"tensor '{previous.Name}' (ending at {previous.End})";
                throw new InvalidDataException($"'{path}': bytes [{expected}, {entry.Begin}) between {after} and tensor '{entry.Name}' belong to no tensor; the data offsets are corrupt.");
            }

            expected = entry.End;
            previous = entry;
        }

        if (expected != dataLength)
        {
            throw new InvalidDataException($"'{path}': the tensors cover {expected} bytes of a {dataLength}-byte data section; the file has trailing data or its offsets are corrupt.");
        }
    }
}
