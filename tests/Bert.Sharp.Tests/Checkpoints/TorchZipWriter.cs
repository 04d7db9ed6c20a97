using System.IO.Compression;
using System.Text;
using Bert.Sharp.Tests.TestSupport;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Checkpoints;

/// <summary>
/// Writes a state dict the way <c>torch.save</c> does (protocol-2 pickle in <c>archive/data.pkl</c>, one storage per
/// entry under <c>archive/data/</c>), byte by byte, so tests can make any variant (real <c>torch.save</c> files are in
/// <c>Fixtures/</c>).
/// </summary>
internal sealed class TorchZipWriter : IDisposable
{
    private readonly MemoryStream pickle = new();
    private readonly List<(string Key, byte[] Bytes)> storages = [];
    private int memo;

    /// <summary>One entry: a name and a tensor view (storage + offset + size + stride).</summary>
    public sealed record Entry(string Name, string StorageType, string StorageKey, long StorageElements, long Offset, long[] Size, long[] Stride);

    public void Dispose() => pickle.Dispose();

    public void AddStorage(string key, byte[] bytes) => storages.Add((key, bytes));

    public static byte[] Bytes(Tensor t)
    {
        using Tensor c = t.contiguous();
        return c.bytes.ToArray();
    }

    /// <summary>A state dict as OrderedDict with a _metadata attribute, like model.state_dict().</summary>
    public void WriteStateDict(IEnumerable<Entry> entries, string archiveName = "archive")
    {
        Op(0x80, 2);
        Global("collections", "OrderedDict");
        Op(')');
        Op('R');
        Put();
        Op('(');
        foreach (Entry e in entries)
        {
            Unicode(e.Name);
            Global("torch._utils", "_rebuild_tensor_v2");
            Op('(');
            Op('(');
            Unicode("storage");
            Global("torch", e.StorageType);
            Unicode(e.StorageKey);
            Unicode("cpu");
            Int(e.StorageElements);
            Op('t');
            Op('Q');
            Int(e.Offset);
            Tuple(e.Size);
            Tuple(e.Stride);
            Op(0x89);
            Global("collections", "OrderedDict");
            Op(')');
            Op('R');
            Op('t');
            Op('R');
            Put();
        }

        Op('u');
        // state: {'_metadata': OrderedDict({'': {'version': 1}})}
        Op('}');
        Unicode("_metadata");
        Global("collections", "OrderedDict");
        Op(')');
        Op('R');
        Unicode(string.Empty);
        Op('}');
        Unicode("version");
        Int(1);
        Op('s');
        Op('s');
        Op('s');
        Op('b');
        Op('.');
        ArchiveName = archiveName;
    }

    public string ArchiveName { get; private set; } = "archive";

    /// <summary>How storage entries are compressed (torch.save never compresses them).</summary>
    public CompressionLevel StorageCompression { get; set; } = CompressionLevel.NoCompression;

    /// <summary>How data.pkl is compressed (torch.save never compresses it).</summary>
    public CompressionLevel PickleCompression { get; set; } = CompressionLevel.NoCompression;

    /// <summary>Raw pickle bytes for hostile tests.</summary>
    public void WriteRaw(byte[] bytes) => pickle.Write(bytes);

    public void Save(string path)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        Add(zip, $"{ArchiveName}/data.pkl", pickle.ToArray(), PickleCompression);
        foreach ((string key, byte[] bytes) in storages)
        {
            Add(zip, $"{ArchiveName}/data/{key}", bytes, StorageCompression);
        }

        Add(zip, $"{ArchiveName}/version", Encoding.ASCII.GetBytes("3\n"), CompressionLevel.NoCompression);
    }

    /// <summary>The zip as bytes (for fuzzing).</summary>
    public byte[] ToBytes()
    {
        string path = TestTemp.NewFilePath("zip", ".zip");
        try
        {
            Save(path);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void Add(ZipArchive zip, string name, byte[] bytes, CompressionLevel level)
    {
        ZipArchiveEntry entry = zip.CreateEntry(name, level);
        using Stream s = entry.Open();
        s.Write(bytes);
    }

    private void Op(char c) => pickle.WriteByte((byte)c);

    private void Op(int b, int? arg = null)
    {
        pickle.WriteByte((byte)b);
        if (arg is int a)
        {
            pickle.WriteByte((byte)a);
        }
    }

    private void Put()
    {
        pickle.WriteByte((byte)'q');
        pickle.WriteByte((byte)(memo++ & 0xFF));
    }

    private void Global(string module, string name)
    {
        pickle.WriteByte((byte)'c');
        pickle.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
    }

    private void Unicode(string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        pickle.WriteByte((byte)'X');
        pickle.Write(BitConverter.GetBytes(bytes.Length));
        pickle.Write(bytes);
    }

    private void Int(long value)
    {
        if (value is >= 0 and < 256)
        {
            pickle.WriteByte((byte)'K');
            pickle.WriteByte((byte)value);
        }
        else if (value is >= int.MinValue and <= int.MaxValue)
        {
            pickle.WriteByte((byte)'J');
            pickle.Write(BitConverter.GetBytes((int)value));
        }
        else
        {
            pickle.WriteByte(0x8a);
            pickle.WriteByte(8);
            pickle.Write(BitConverter.GetBytes(value));
        }
    }

    private void Tuple(long[] values)
    {
        Op('(');
        foreach (long v in values)
        {
            Int(v);
        }

        Op('t');
    }
}
