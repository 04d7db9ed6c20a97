using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using static TorchSharp.torch;

namespace Bert.Sharp.Checkpoints;

/// <summary>
/// A pickle reader for PyTorch state dicts that can never run code: it implements the opcodes of protocols 2–5 that
/// <c>torch.save</c> emits, and resolves only these globals — <c>collections.OrderedDict</c>,
/// <c>torch._utils._rebuild_tensor_v2</c>, <c>torch._utils._rebuild_parameter</c> and the typed storages
/// (<c>torch.FloatStorage</c>, <c>HalfStorage</c>, <c>BFloat16Storage</c>, <c>DoubleStorage</c>, <c>LongStorage</c>,
/// <c>IntStorage</c>, <c>ShortStorage</c>, <c>CharStorage</c>, <c>ByteStorage</c>, <c>BoolStorage</c>). Anything else
/// is refused with an <see cref="InvalidDataException"/> naming it.
/// </summary>
/// <remarks>
/// Tensors come out as <see cref="TorchTensorView"/> descriptions, checked against their storage here (extent within the
/// storage, no more elements than the storage holds) but not allocated. The reader is iterative (no recursion) and caps
/// its stack, marks, memo and dict sizes, so a crafted pickle costs at most a small multiple of its own size.
/// </remarks>
internal sealed class RestrictedUnpickler
{
    private static readonly Dictionary<string, ScalarType> Storages = new(StringComparer.Ordinal)
    {
        ["FloatStorage"] = ScalarType.Float32,
        ["HalfStorage"] = ScalarType.Float16,
        ["BFloat16Storage"] = ScalarType.BFloat16,
        ["DoubleStorage"] = ScalarType.Float64,
        ["LongStorage"] = ScalarType.Int64,
        ["IntStorage"] = ScalarType.Int32,
        ["ShortStorage"] = ScalarType.Int16,
        ["CharStorage"] = ScalarType.Int8,
        ["ByteStorage"] = ScalarType.Byte,
        ["BoolStorage"] = ScalarType.Bool,
    };

    /// <summary>Most objects on the stack at once (a state dict needs a few thousand).</summary>
    internal const int MaxStack = 1_000_000;

    /// <summary>Most open MARKs (nesting depth; a state dict needs about five).</summary>
    internal const int MaxMarks = 10_000;

    /// <summary>Most memo entries (one or two per tensor in a state dict).</summary>
    internal const int MaxMemo = 10_000_000;

    /// <summary>Most entries of one dict.</summary>
    internal const int MaxDictEntries = 10_000_000;

    /// <summary>Most dimensions of a tensor (PyTorch's own kernels stop at 25).</summary>
    internal const int MaxRank = 64;

    private readonly byte[] data;
    private readonly int length;
    private readonly TorchStorageArchive storages;
    private readonly string source;
    private readonly List<object?> stack = [];
    private readonly Stack<int> marks = new();
    private readonly Dictionary<long, object?> memo = [];
    private int position;

    /// <param name="data">The pickle; only the first <paramref name="length"/> bytes are read.</param>
    /// <param name="length">Length of the pickle in <paramref name="data"/>.</param>
    /// <param name="storages">Describes the storages the pickle refers to.</param>
    /// <param name="source">The file, for messages.</param>
    public RestrictedUnpickler(byte[] data, int length, TorchStorageArchive storages, string source)
    {
        this.data = data;
        this.length = length;
        this.storages = storages;
        this.source = source;
    }

    private enum Global
    {
        OrderedDict,
        RebuildTensorV2,
        RebuildParameter,
    }

    private sealed record StorageType(ScalarType DType, string Name);


    /// <summary>Runs the pickle to its STOP opcode and returns the top object.</summary>
    public object? Load()
    {
        try
        {
            while (true)
            {
                byte opcode = ReadByte();
                switch (opcode)
                {
                    case 0x80: ReadByte(); break; // PROTO
                    case 0x95: Take(8); break; // FRAME
                    case (byte)'.': return Pop(); // STOP
                    case (byte)'(': Mark(); break;
                    case (byte)'0': Pop(); break; // POP
                    case (byte)'1': PopMark(); break; // POP_MARK
                    case (byte)'2': Push(Peek()); break; // DUP
                    case (byte)'N': Push(null); break;
                    case 0x88: Push(true); break;
                    case 0x89: Push(false); break;
                    case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                    case (byte)'K': Push((long)ReadByte()); break;
                    case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                    case 0x8a: Push(ReadLong(ReadByte())); break; // LONG1
                    case 0x8b: Push(ReadLong(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Take(4))))); break; // LONG4
                    case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break; // BINFLOAT
                    case (byte)'X': Push(Encoding.UTF8.GetString(Take(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))))); break;
                    case 0x8c: Push(Encoding.UTF8.GetString(Take(ReadByte()))); break; // SHORT_BINUNICODE
                    case 0x8d: Push(Encoding.UTF8.GetString(Take(checked((int)BinaryPrimitives.ReadUInt64LittleEndian(Take(8)))))); break;
                    case (byte)'T': Push(Encoding.Latin1.GetString(Take(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))))); break; // BINSTRING
                    case (byte)'U': Push(Encoding.Latin1.GetString(Take(ReadByte()))); break; // SHORT_BINSTRING
                    case (byte)'C': Push(Take(ReadByte()).ToArray()); break; // SHORT_BINBYTES
                    case (byte)'B': Push(Take(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))).ToArray()); break; // BINBYTES
                    case (byte)'}': Push(new PickleDict()); break;
                    case (byte)']': Push(new List<object?>()); break;
                    case (byte)')': Push(Array.Empty<object?>()); break;
                    case (byte)'t': Push(PopMark().ToArray()); break; // TUPLE
                    case 0x85: Push(new[] { Pop() }); break;
                    case 0x86: { object? b = Pop(), a = Pop(); Push(new[] { a, b }); break; }
                    case 0x87: { object? c = Pop(), b = Pop(), a = Pop(); Push(new[] { a, b, c }); break; }
                    case (byte)'l': Push(PopMark()); break; // LIST
                    case (byte)'d': Push(ToDict(PopMark())); break; // DICT
                    case (byte)'a': { object? item = Pop(); As<List<object?>>(Peek(), "APPEND").Add(item); break; }
                    case (byte)'e': { List<object?> items = PopMark(); As<List<object?>>(Peek(), "APPENDS").AddRange(items); break; }
                    case (byte)'s': { object? value = Pop(), key = Pop(); Add(As<PickleDict>(Peek(), "SETITEM"), key, value); break; }
                    case (byte)'u': SetItems(); break;
                    case (byte)'c': Push(ResolveGlobal(ReadLine(), ReadLine())); break; // GLOBAL
                    case 0x93: { string name = As<string>(Pop(), "STACK_GLOBAL"), module = As<string>(Pop(), "STACK_GLOBAL"); Push(ResolveGlobal(module, name)); break; }
                    case (byte)'q': Memoize(ReadByte()); break; // BINPUT
                    case (byte)'r': Memoize(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))); break; // LONG_BINPUT
                    case 0x94: Memoize(memo.Count); break; // MEMOIZE
                    case (byte)'h': Push(Memo(ReadByte())); break; // BINGET
                    case (byte)'j': Push(Memo(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break; // LONG_BINGET
                    case (byte)'Q': Push(PersistentLoad(Pop())); break; // BINPERSID
                    case (byte)'R': { object? args = Pop(), callable = Pop(); Push(Reduce(callable, args)); break; }
                    case (byte)'b': Pop(); Peek(); break; // BUILD: a state dict's only state is its _metadata, which is not needed.
                    default:
                        throw Invalid($"pickle opcode 0x{opcode:x2} at byte {position - 1} is not allowed in a state dict");
                }
            }
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or OverflowException or InvalidCastException or DecoderFallbackException)
        {
            throw new InvalidDataException($"'{source}': the pickle is malformed near byte {position}: {e.Message}", e);
        }
    }

    private object ResolveGlobal(string module, string name) => (module, name) switch
    {
        ("collections", "OrderedDict") => Global.OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2") => Global.RebuildTensorV2,
        ("torch._utils", "_rebuild_parameter") => Global.RebuildParameter,
        ("torch", _) when Storages.TryGetValue(name, out ScalarType dtype) => new StorageType(dtype, name),
        _ => throw Invalid($"the pickle refers to '{Shorten(module)}.{Shorten(name)}', which a state dict does not use; it was not loaded (only tensors, storages and OrderedDict are allowed)"),
    };

    private object? Reduce(object? callable, object? args)
    {
        object?[] arguments = As<object?[]>(args, "REDUCE arguments");
        switch (callable)
        {
            case Global.OrderedDict when arguments.Length == 0:
                return new PickleDict();
            case Global.RebuildParameter when arguments.Length >= 1 && arguments[0] is TorchTensorView parameter:
                return parameter;
            case Global.RebuildTensorV2 when arguments.Length >= 4:
                return RebuildTensor(arguments);
            default:
                throw Invalid($"cannot call {callable ?? "None"} with {arguments.Length} arguments");
        }
    }

    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    private TorchTensorView RebuildTensor(object?[] arguments)
    {
        TorchStorageRef storage = As<TorchStorageRef>(arguments[0], "tensor storage");
        long offset = As<long>(arguments[1], "storage offset");
        object?[] sizeItems = As<object?[]>(arguments[2], "tensor size");
        object?[] strideItems = As<object?[]>(arguments[3], "tensor stride");
        if (sizeItems.Length > MaxRank)
        {
            throw Invalid($"a tensor has {sizeItems.Length} dimensions; at most {MaxRank} are supported");
        }

        long[] size = sizeItems.Select(x => As<long>(x, "tensor size")).ToArray();
        long[] stride = strideItems.Select(x => As<long>(x, "tensor stride")).ToArray();
        if (size.Length != stride.Length || offset < 0 || size.Any(s => s < 0) || stride.Any(s => s < 0))
        {
            throw Invalid($"a tensor has size [{string.Join(", ", size)}], stride [{string.Join(", ", stride)}] and offset {offset}, which do not fit together");
        }

        return TorchTensorView.Create(storage, offset, size, stride, Invalid);
    }

    private TorchStorageRef PersistentLoad(object? pid)
    {
        // ('storage', storage_type, key, location, numel)
        object?[] tuple = As<object?[]>(pid, "persistent id");
        if (tuple.Length != 5 || tuple[0] is not "storage")
        {
            throw Invalid("a persistent id is not ('storage', type, key, location, numel)");
        }

        StorageType type = As<StorageType>(tuple[1], "storage type");
        string key = As<string>(tuple[2], "storage key");
        if (key.Length == 0 || key.Length > 256 || key.Contains('/', StringComparison.Ordinal) || key.Contains('\\', StringComparison.Ordinal) || key.Contains("..", StringComparison.Ordinal))
        {
            throw Invalid($"storage key '{Shorten(key)}' is not a plain name");
        }

        long elements = As<long>(tuple[4], "storage size");
        if (elements < 0)
        {
            throw Invalid($"storage '{key}' has a negative size {elements}");
        }

        return storages.Describe(key, type.DType, elements);
    }

    private void SetItems()
    {
        List<object?> items = PopMark();
        PickleDict dict = As<PickleDict>(Peek(), "SETITEMS");
        if (items.Count % 2 != 0)
        {
            throw Invalid("SETITEMS has an odd number of items");
        }

        for (int i = 0; i < items.Count; i += 2)
        {
            Add(dict, items[i], items[i + 1]);
        }
    }

    private PickleDict ToDict(List<object?> items)
    {
        var dict = new PickleDict();
        if (items.Count % 2 != 0)
        {
            throw Invalid("DICT has an odd number of items");
        }

        for (int i = 0; i < items.Count; i += 2)
        {
            Add(dict, items[i], items[i + 1]);
        }

        return dict;
    }

    private void Add(PickleDict dict, object? key, object? value)
    {
        if (dict.Count >= MaxDictEntries)
        {
            throw Invalid($"a dict has more than {MaxDictEntries} entries");
        }

        if (!dict.TryAdd(key, value))
        {
            throw Invalid($"key '{Shorten(key as string ?? key?.ToString() ?? "None")}' appears twice in a dict (Python's pickler never writes that)");
        }
    }

    private void Mark()
    {
        if (marks.Count >= MaxMarks)
        {
            throw Invalid($"the pickle nests more than {MaxMarks} MARKs");
        }

        marks.Push(stack.Count);
    }

    private void Memoize(long index)
    {
        if (memo.Count >= MaxMemo && !memo.ContainsKey(index))
        {
            throw Invalid($"the pickle memoizes more than {MaxMemo} objects");
        }

        memo[index] = Peek();
    }

    private long ReadLong(int length)
    {
        if (length > 8)
        {
            throw Invalid($"an integer of {length} bytes is too large");
        }

        ReadOnlySpan<byte> bytes = Take(length);
        return length == 0 ? 0 : (long)new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
    }

    private string ReadLine()
    {
        int end = Array.IndexOf(data, (byte)'\n', position, length - position);
        if (end < 0)
        {
            throw Invalid("a GLOBAL name is not terminated");
        }

        string line = Encoding.ASCII.GetString(data, position, end - position);
        position = end + 1;
        return line;
    }

    private byte ReadByte() => position < length ? data[position++] : throw Invalid("the pickle ends before its STOP opcode");

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > length - position)
        {
            throw Invalid("the pickle ends in the middle of a value");
        }

        var span = new ReadOnlySpan<byte>(data, position, count);
        position += count;
        return span;
    }

    private void Push(object? value)
    {
        if (stack.Count >= MaxStack)
        {
            throw Invalid($"the pickle stack grows past {MaxStack} objects");
        }

        stack.Add(value);
    }

    private object? Peek() => stack.Count > 0 && (marks.Count == 0 || marks.Peek() < stack.Count) ? stack[^1] : throw Invalid("the pickle stack is empty");

    private object? Pop()
    {
        object? value = Peek();
        stack.RemoveAt(stack.Count - 1);
        return value;
    }

    private List<object?> PopMark()
    {
        if (marks.Count == 0)
        {
            throw Invalid("an opcode needs a MARK that is not there");
        }

        int start = marks.Pop();
        List<object?> items = stack.GetRange(start, stack.Count - start);
        stack.RemoveRange(start, stack.Count - start);
        return items;
    }

    private object? Memo(long index) => memo.TryGetValue(index, out object? value) ? value : throw Invalid($"memo entry {index} is read before it is written");

    private T As<T>(object? value, string what) => value is T typed ? typed : throw Invalid($"expected {what} ({typeof(T).Name}) but found {value?.GetType().Name ?? "None"}");

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "…";

    private InvalidDataException Invalid(string message) => new($"'{source}': {message}.");
}
