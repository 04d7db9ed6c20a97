using System.Runtime.InteropServices;
using TorchSharp;

namespace Bert.Sharp;

/// <summary>
/// Loads TorchSharp's native back end once and picks devices. Call <see cref="EnsureLoaded"/> early in an
/// application to get a clear error about the native libraries instead of a type-initialisation failure
/// deep inside the first tensor operation.
/// </summary>
public static class TorchRuntime
{
    private static readonly Lazy<Exception?> LoadFailure = new(TryLoad, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Makes sure TorchSharp's native libraries are loaded.
    /// </summary>
    /// <exception cref="InvalidOperationException">The native libraries could not be loaded; the message names the cause.</exception>
    public static void EnsureLoaded()
    {
        Exception? failure = LoadFailure.Value;
        if (failure is not null)
        {
            throw new InvalidOperationException(DescribeLoadFailure(failure), failure);
        }
    }

    /// <summary>
    /// Whether LibTorch's MKL was let to use its fast (AVX-512 / AVX2) kernels on this AMD processor ("applied"), or why
    /// not ("skipped: …"). MKL otherwise runs generic kernels on non-Intel processors (fp32 GEMM 1.2–2.3× slower). MKL
    /// chooses at its first matrix product: when TorchSharp multiplied before Bert.Sharp was first used, it is "too late: …",
    /// which model loading also logs as a warning — call <see cref="EnsureLoaded"/> at start-up, before other TorchSharp
    /// work. Set the environment variable <c>BERT_SHARP_MKL_AMD_DISPATCH=0</c> before start-up to leave MKL as it is.
    /// </summary>
    public static string MklCpuDispatchStatus
    {
        get
        {
            EnsureLoaded();
            return Runtime.MklCpuDispatch.Status;
        }
    }

    /// <summary>
    /// The best device available: the first CUDA device when TorchSharp sees one (a CUDA back end such as
    /// <c>TorchSharp-cuda-linux</c> is referenced by the app and a GPU is present), otherwise the CPU.
    /// </summary>
    public static torch.Device DefaultDevice
    {
        get
        {
            EnsureLoaded();
            return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        }
    }

    /// <summary>
    /// Parses a device name such as <c>cpu</c>, <c>cuda</c>, <c>cuda:1</c> or <c>auto</c> (the best available).
    /// </summary>
    /// <param name="name">The device name; <c>null</c>, empty or <c>auto</c> selects <see cref="DefaultDevice"/>.</param>
    /// <exception cref="ArgumentException">The name is not a device TorchSharp knows, or CUDA was asked for and is not available.</exception>
    public static torch.Device ParseDevice(string? name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            return DefaultDevice;
        }

        EnsureLoaded();
        torch.Device device;
        try
        {
            device = new torch.Device(name.Trim().ToLowerInvariant());
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            throw new ArgumentException($"'{name}' is not a device name (expected cpu, cuda, cuda:N or auto).", nameof(name), e);
        }

        if (device.type == DeviceType.CUDA && !torch.cuda.is_available())
        {
            throw new ArgumentException(
                $"Device '{name}' was asked for but CUDA is not available: reference a TorchSharp CUDA package (for example TorchSharp-cuda-linux) and make sure a GPU and its driver are present.",
                nameof(name));
        }

        return device;
    }

    private static Exception? TryLoad()
    {
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            // Before the first matrix multiply, so MKL's kernel choice is made with the fix in place.
            Runtime.MklCpuDispatch.TryApply();
            using torch.Tensor probe = torch.ones(1);
            return null;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or NotSupportedException or InvalidOperationException or EntryPointNotFoundException)
        {
            return e;
        }
    }

    private static string DescribeLoadFailure(Exception failure)
    {
        string detail = failure.InnerException?.Message ?? failure.Message;
        string hint = string.Empty;
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux) && detail.Contains("GLIBCXX", StringComparison.Ordinal))
        {
            hint = " The system libstdc++ is older than the one TorchSharp was built against. Bert.Sharp's build step rewrites that requirement in the copied libLibTorchSharp.so; make sure it ran (it is skipped when BertSharpPatchLibTorchSharp=false) or install a libstdc++ from GCC 13 or newer.";
        }
        else if (detail.Contains("libtorch", StringComparison.OrdinalIgnoreCase) || failure is DllNotFoundException)
        {
            hint = " Reference a LibTorch back end (Bert.Sharp brings TorchSharp-cpu; for CUDA add TorchSharp-cuda-linux or TorchSharp-cuda-windows) and make sure its native files were copied to the output folder.";
        }

        return $"TorchSharp's native libraries could not be loaded: {detail}.{hint}";
    }
}
