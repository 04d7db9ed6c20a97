using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace Bert.Sharp.Runtime;

/// <summary>
/// Lets LibTorch's bundled Intel MKL use its AVX-512 / AVX2 kernels on AMD processors.
/// </summary>
/// <remarks>
/// MKL asks <c>mkl_serv_intel_cpu_true()</c> whether the processor is Intel's and, when it is not, falls back to generic
/// code paths: on an AMD EPYC here fp32 GEMM runs at ~220 GFLOP/s instead of ~500 GFLOP/s, and BERT's forward pass is
/// twice as slow as ONNX Runtime's. The usual remedy is an <c>LD_PRELOAD</c> shim returning 1; this does the same from
/// inside the process, before the first GEMM: the call goes through a PLT slot of <c>libtorch_cpu.so</c> (its
/// <c>R_X86_64_JUMP_SLOT</c> relocation), which is pointed at a six-byte stub (<c>mov eax, 1; ret</c>). MKL then picks
/// its kernels from the CPUID feature bits, as it does on Intel processors. Nothing on disk changes. Any surprise (no
/// such library, symbol or relocation; an unexpected ELF layout) leaves the process as it was.
/// MKL picks its kernels once, at its first call, so the stub only helps when it is in place before the process's first
/// LibTorch matrix product: code that multiplied with TorchSharp before Bert.Sharp's first use leaves MKL on its generic
/// kernels for good. MKL's own CPU detection (<c>mkl_serv_cpu_detect</c>, 0 for the generic kernels) is read after the
/// stub is in place to tell the two apart, and <see cref="Status"/> says "too late" then (a 2048³ product 1.2–1.8× slower
/// on an AMD EPYC Zen 4: docs/performance.md, "Start-up order").
/// Linux x64 only; switched off with the environment variable <c>BERT_SHARP_MKL_AMD_DISPATCH=0</c>.
/// </remarks>
internal static unsafe partial class MklCpuDispatch
{
    /// <summary>The start of <see cref="Status"/> when MKL had picked its generic kernels before the stub was in place.</summary>
    internal const string TooLatePrefix = "too late:";

    private const string Symbol = "mkl_serv_intel_cpu_true";
    private const string Library = "libtorch_cpu.so";
    private const string OptOutVariable = "BERT_SHARP_MKL_AMD_DISPATCH";
    private const uint ShtRela = 4;
    private const uint ShtDynsym = 11;
    private const uint RX8664JumpSlot = 7;
    private const uint RX8664GlobDat = 6;
    private const int ProtRead = 1, ProtWrite = 2, ProtExec = 4;
    private const int MapPrivate = 0x02, MapAnonymous = 0x20;

    /// <summary>What happened: "applied", or why not ("skipped: …", or <see cref="TooLatePrefix"/> and what to do).</summary>
    public static string Status { get; private set; } = "not attempted";

    /// <summary>Whether MKL runs its generic kernels although the stub is in place (see <see cref="TooLatePrefix"/>).</summary>
    public static bool IsTooLate => Status.StartsWith(TooLatePrefix, StringComparison.Ordinal);

    /// <summary>
    /// The status after the stub is in place, from MKL's CPU detection (<paramref name="detectedCpu"/>, 0 for its generic
    /// kernels): on a CPU with AVX2, generic kernels mean that MKL chose them before the stub existed.
    /// </summary>
    internal static string Verdict(int detectedCpu, bool hasAvx2) => detectedCpu == 0 && hasAvx2
        ? $"{TooLatePrefix} MKL had picked its generic kernels before Bert.Sharp was first used (a LibTorch matrix product ran earlier in this process), and keeps them; matrix products run 1.2–2.3× slower. Call TorchRuntime.EnsureLoaded() before any other TorchSharp work."
        : "applied";

    /// <summary>Installs the stub if this is an AMD x64 Linux process with LibTorch's MKL loaded. Never throws.</summary>
    public static void TryApply()
    {
        try
        {
            Status = Apply();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or FormatException or OverflowException or ArgumentException or InvalidOperationException)
        {
            Status = $"skipped: {e.Message}";
        }
    }

    private static string Apply()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64 || !X86Base.IsSupported)
        {
            return "skipped: not Linux x64";
        }

        if (Environment.GetEnvironmentVariable(OptOutVariable) is "0" or "false" or "False")
        {
            return $"skipped: {OptOutVariable}=0";
        }

        if (!IsAmd())
        {
            return "skipped: not an AMD processor";
        }

        // The first mapping of the library (file offset 0) gives its load address.
        (string path, long mappedStart)? mapping = LibTorchCpuLibrary.FindMapping();
        if (mapping is null)
        {
            return $"skipped: {Library} is not loaded";
        }

        List<ulong> slots = FindSlots(mapping.Value.path, out ulong firstLoadVirtualAddress);
        if (slots.Count == 0)
        {
            return $"skipped: no relocation of {Symbol} in {mapping.Value.path}";
        }

        long bias = mapping.Value.mappedStart - (long)(firstLoadVirtualAddress & ~0xFFFUL);
        nint stub = CreateStub();
        foreach (ulong slot in slots)
        {
            WritePointer(bias + (long)slot, stub);
        }

        return Verify(mapping.Value.path);
    }

    /// <summary>
    /// MKL's own CPU detection in <paramref name="library"/> (a handle of <c>libtorch_cpu</c>): the kernels it runs from now
    /// on, 0 for its generic ones (it detects once and keeps the answer); null where the library does not export it.
    /// </summary>
    internal static int? DetectedCpu(nint library) =>
        NativeLibrary.TryGetExport(library, "mkl_serv_cpu_detect", out nint detect) ? ((delegate* unmanaged<int>)detect)() : null;

    // The status once the stub is in place, from MKL's CPU detection ("applied" where it cannot be read).
    private static string Verify(string path) =>
        NativeLibrary.TryLoad(path, out nint handle) && DetectedCpu(handle) is int detected ? Verdict(detected, Avx2.IsSupported) : "applied";

    private static bool IsAmd()
    {
        (int _, int ebx, int ecx, int edx) = X86Base.CpuId(0, 0);
        Span<byte> vendor = stackalloc byte[12];
        BinaryPrimitives.WriteInt32LittleEndian(vendor, ebx);
        BinaryPrimitives.WriteInt32LittleEndian(vendor[4..], edx);
        BinaryPrimitives.WriteInt32LittleEndian(vendor[8..], ecx);
        return vendor.SequenceEqual("AuthenticAMD"u8);
    }

    // Virtual addresses (before load bias) of the GOT slots through which the library calls the symbol.
    private static List<ulong> FindSlots(string path, out ulong firstLoadVirtualAddress)
    {
        using var file = File.OpenHandle(path);
        byte[] header = Read(file, 0, 64);
        if (!header.AsSpan(0, 4).SequenceEqual("\u007fELF"u8) || header[4] != 2 || header[5] != 1)
        {
            throw new InvalidDataException($"{path} is not a little-endian 64-bit ELF file");
        }

        ulong programHeaders = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(0x20));
        ulong sectionHeaders = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(0x28));
        int programHeaderSize = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(0x36));
        int programHeaderCount = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(0x38));
        int sectionHeaderSize = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(0x3A));
        int sectionHeaderCount = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(0x3C));

        firstLoadVirtualAddress = 0;
        byte[] phdrs = Read(file, (long)programHeaders, programHeaderSize * programHeaderCount);
        for (int i = 0; i < programHeaderCount; i++)
        {
            ReadOnlySpan<byte> ph = phdrs.AsSpan(i * programHeaderSize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(ph) == 1 && BinaryPrimitives.ReadUInt64LittleEndian(ph[8..]) == 0)
            {
                firstLoadVirtualAddress = BinaryPrimitives.ReadUInt64LittleEndian(ph[16..]);
                break;
            }
        }

        byte[] shdrs = Read(file, (long)sectionHeaders, sectionHeaderSize * sectionHeaderCount);
        (ulong Offset, ulong Size, uint Link) Section(int index)
        {
            ReadOnlySpan<byte> sh = shdrs.AsSpan(index * sectionHeaderSize);
            return (BinaryPrimitives.ReadUInt64LittleEndian(sh[0x18..]), BinaryPrimitives.ReadUInt64LittleEndian(sh[0x20..]), BinaryPrimitives.ReadUInt32LittleEndian(sh[0x28..]));
        }

        uint TypeOf(int index) => BinaryPrimitives.ReadUInt32LittleEndian(shdrs.AsSpan((index * sectionHeaderSize) + 4));

        int dynsym = Enumerable.Range(0, sectionHeaderCount).FirstOrDefault(i => TypeOf(i) == ShtDynsym, -1);
        if (dynsym < 0)
        {
            return [];
        }

        var symbols = Section(dynsym);
        var strings = Section((int)symbols.Link);
        byte[] symbolTable = Read(file, (long)symbols.Offset, checked((int)symbols.Size));
        byte[] stringTable = Read(file, (long)strings.Offset, checked((int)strings.Size));
        byte[] wanted = Encoding.ASCII.GetBytes(Symbol + "\0");
        long symbolIndex = -1;
        for (int i = 0; i * 24 < symbolTable.Length; i++)
        {
            int name = (int)BinaryPrimitives.ReadUInt32LittleEndian(symbolTable.AsSpan(i * 24));
            if (name + wanted.Length <= stringTable.Length && stringTable.AsSpan(name, wanted.Length).SequenceEqual(wanted))
            {
                symbolIndex = i;
                break;
            }
        }

        var slots = new List<ulong>();
        if (symbolIndex < 0)
        {
            return slots;
        }

        for (int s = 0; s < sectionHeaderCount; s++)
        {
            if (TypeOf(s) != ShtRela || Section(s).Link != dynsym)
            {
                continue;
            }

            var rela = Section(s);
            byte[] entries = Read(file, (long)rela.Offset, checked((int)rela.Size));
            for (int e = 0; e + 24 <= entries.Length; e += 24)
            {
                ulong info = BinaryPrimitives.ReadUInt64LittleEndian(entries.AsSpan(e + 8));
                uint type = (uint)info;
                if ((long)(info >> 32) == symbolIndex && type is RX8664JumpSlot or RX8664GlobDat)
                {
                    slots.Add(BinaryPrimitives.ReadUInt64LittleEndian(entries.AsSpan(e)));
                }
            }
        }

        return slots;
    }

    private static byte[] Read(Microsoft.Win32.SafeHandles.SafeFileHandle file, long offset, int length)
    {
        byte[] buffer = new byte[length];
        int read = 0;
        while (read < length)
        {
            int n = RandomAccess.Read(file, buffer.AsSpan(read), offset + read);
            if (n == 0)
            {
                throw new InvalidDataException($"unexpected end of file at offset {offset + read}");
            }

            read += n;
        }

        return buffer;
    }

    // mov eax, 1; ret — in a page of its own, made executable after it is written.
    private static nint CreateStub()
    {
        nint page = Mmap(0, 4096, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (page == -1)
        {
            throw new InvalidOperationException($"mmap failed (errno {Marshal.GetLastPInvokeError()})");
        }

        Marshal.Copy(new byte[] { 0xB8, 0x01, 0x00, 0x00, 0x00, 0xC3 }, 0, page, 6);
        if (Mprotect(page, 4096, ProtRead | ProtExec) != 0)
        {
            throw new InvalidOperationException($"mprotect failed (errno {Marshal.GetLastPInvokeError()})");
        }

        return page;
    }

    private static void WritePointer(long address, nint value)
    {
        nint page = (nint)(address & ~0xFFFL);
        int original = ProtectionOf(address);
        if ((original & ProtWrite) == 0 && Mprotect(page, 4096, original | ProtWrite) != 0)
        {
            throw new InvalidOperationException($"mprotect failed (errno {Marshal.GetLastPInvokeError()})");
        }

        Marshal.WriteIntPtr((nint)address, value);
        if ((original & ProtWrite) == 0)
        {
            _ = Mprotect(page, 4096, original);
        }
    }

    private static int ProtectionOf(long address)
    {
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            int dash = line.IndexOf('-', StringComparison.Ordinal);
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            long start = long.Parse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            long end = long.Parse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (address >= start && address < end)
            {
                ReadOnlySpan<char> perms = line.AsSpan(space + 1, 4);
                return (perms[0] == 'r' ? ProtRead : 0) | (perms[1] == 'w' ? ProtWrite : 0) | (perms[2] == 'x' ? ProtExec : 0);
            }
        }

        throw new InvalidOperationException($"address 0x{address:x} is not mapped");
    }

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    private static partial int Mprotect(nint address, nuint length, int protection);
}
