using System.Buffers.Binary;
using System.IO.Compression;

namespace Bert.Sharp.Tests.Fuzzing;

/// <summary>
/// Mutations inside a container, so the fuzzer reaches the parsers behind its checks: the JSON header of a safetensors
/// file (with the length prefix rewritten, or not), and the entries of a <c>torch.save</c> zip (repacked as a valid zip,
/// since a mutated zip mostly fails its CRC or header checks before the pickle is read).
/// </summary>
internal static class ContainerMutator
{
    /// <summary>A safetensors file: header JSON mutated structurally (or bytes of it), then the length fixed most of the time.</summary>
    public static byte[] SafeTensors(byte[] file, IReadOnlyList<byte[]> corpus, Random rng, List<string> log)
    {
        if (file.Length < 8 || rng.Next(2) == 0)
        {
            return ByteMutator.Mutate(file, corpus, rng, log);
        }

        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (length > (ulong)(file.Length - 8))
        {
            return ByteMutator.Mutate(file, corpus, rng, log);
        }

        byte[] header = file[8..(8 + (int)length)];
        byte[] data = file[(8 + (int)length)..];
        byte[] mutated = JsonMutator.Mutate(header, rng, log) ?? ByteMutator.Mutate(header, corpus, rng, log);
        if (rng.Next(5) == 0)
        {
            byte[] grown = new byte[rng.Next(64)];
            rng.NextBytes(grown);
            data = rng.Next(2) == 0 ? data[..rng.Next(data.Length + 1)] : [.. data, .. grown];
            log.Add($"data section now {data.Length} bytes");
        }

        ulong prefix = rng.Next(8) == 0 ? length : (ulong)mutated.Length;
        log.Add($"header length prefix {prefix} for {mutated.Length} header bytes");
        byte[] result = new byte[8 + mutated.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(result, prefix);
        mutated.CopyTo(result, 8);
        data.CopyTo(result, 8 + mutated.Length);
        return result;
    }

    /// <summary>A torch.save zip: raw bytes mutated, or one entry (mostly data.pkl) mutated and the zip rebuilt.</summary>
    public static byte[] TorchZip(byte[] file, IReadOnlyList<byte[]> corpus, Random rng, List<string> log)
    {
        if (rng.Next(3) == 0)
        {
            return ByteMutator.Mutate(file, corpus, rng, log);
        }

        List<(string Name, byte[] Bytes)> entries = Unpack(file);
        int index = rng.Next(3) != 0 ? entries.FindIndex(e => e.Name.EndsWith("/data.pkl", StringComparison.Ordinal)) : rng.Next(entries.Count);
        index = index < 0 ? rng.Next(entries.Count) : index;
        log.Add($"entry {entries[index].Name}");
        entries[index] = (entries[index].Name, ByteMutator.Mutate(entries[index].Bytes, [entries[index].Bytes], rng, log));
        if (rng.Next(10) == 0)
        {
            int dropped = rng.Next(entries.Count);
            log.Add($"drop entry {entries[dropped].Name}");
            entries.RemoveAt(dropped);
        }

        return Pack(entries, rng.Next(10) == 0 ? CompressionLevel.Fastest : CompressionLevel.NoCompression, log);
    }

    public static List<(string Name, byte[] Bytes)> Unpack(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        var entries = new List<(string, byte[])>();
        foreach (ZipArchiveEntry entry in archive.Entries)
        {
            using Stream stream = entry.Open();
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            entries.Add((entry.FullName, buffer.ToArray()));
        }

        return entries;
    }

    public static byte[] Pack(IEnumerable<(string Name, byte[] Bytes)> entries, CompressionLevel level, List<string>? log = null)
    {
        if (level != CompressionLevel.NoCompression)
        {
            log?.Add("entries deflated");
        }

        using var output = new MemoryStream();
        using (var archive = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach ((string name, byte[] bytes) in entries)
            {
                using Stream stream = archive.CreateEntry(name, level).Open();
                stream.Write(bytes);
            }
        }

        return output.ToArray();
    }
}
