using System.Diagnostics;
using BenchmarkDotNet.Running;
using Bert.Sharp.Benchmarks.Attention;
using Bert.Sharp.Benchmarks.Serving;
using Bert.Sharp.Benchmarks.Support;

namespace Bert.Sharp.Benchmarks;

/// <summary>
/// Entry point. BenchmarkDotNet suites: <c>dotnet run -c Release --project benchmarks/Bert.Sharp.Benchmarks -- --filter '*'</c>.
/// Extra commands: <c>attention-memory [out.md]</c> (peak native memory per attention kernel),
/// <c>training-memory [8x512 ...]</c> (peak memory and time of a training step per precision and checkpointing, one process each),
/// <c>step-profile [32x128]</c> (where a fine-tuning step's time goes, next to the GEMM rate),
/// <c>step-ab [32x128] [rounds]</c> (the step as the trainer runs it, with gradients zeroed in place, and without dropout, each against the GEMM interleaved round by round),
/// <c>attention-dropout-ab [32x128] [rounds] [--unpadded]</c> (one layer's training attention with dropout: the eager chain, head by head on LibTorch's and on .NET's threads, and LibTorch's fused attention without dropout),
/// <c>gemm-shapes [rounds]</c> (each linear-layer product of the MiniLM step at 32 × 128 against the 2048³ GEMM),
/// <c>policy-memory [out.md]</c> (step time and peak memory of full fine-tuning, top layer and LoRA, one process),
/// <c>gpu-check [--model DIR] [--device cuda|cpu] [--out DIR] [--python PATH] [--tiny]</c> (every public path on one device, against the CPU, with timings; docs/gpu.md),
/// <c>packed-gemm</c> (MiniLM's linear products against MKL's packed GEMM, the batch-1 prototype),
/// <c>mkl-order [torch-first]</c> (what MKL runs on an AMD processor when Bert.Sharp, or a TorchSharp product, comes first),
/// <c>small-rows [rounds] [rows]</c> (MiniLM's 36 products at few rows: LibTorch in both weight layouts against Bert.Sharp's few-row kernel on packed panels, next to both runtimes' whole forward),
/// <c>weight-layout MODEL_DIR [rounds]</c> (a served classifier with row-major against column-major linear weights),
/// <c>forward-ab [32x128 ...] [--rounds N]</c> (the encoder forward against ONNX Runtime, taking turns round by round),
/// <c>dispatch-floor [rounds]</c> (one text's <c>Predict</c> with MiniLM's widths and with a hidden-12 model, TextClassifier against OnnxTextClassifier),
/// <c>int8-quality MODEL_DIR [--data FILE]</c> (how far each int8 export setting moves a trained classifier's probabilities),
/// <c>int8-speed MODEL_DIR [1x16 ...] [OTHER.onnx ...]</c> (each int8 export setting, and any other export given, against the float32 export in ONNX Runtime, interleaved medians),
/// <c>ort-time BASELINE.onnx OTHER.onnx ... [1x16 ...] [--rounds N] [--no-spinning]</c> (exported models with ONNX Runtime's default threading, spinning included, taking turns by rounds),
/// <c>ort-profile MODEL.onnx [32x128] [runs] [OPERATOR]</c> (ONNX Runtime's kernel time per operator type for one exported model, and per node for one operator type),
/// <c>serving [--requests 200] [--rounds 3] [--model DIR] [--out out.md]</c> (concurrent HTTP load on the ClassifierApi sample) and
/// <c>update-docs RESULTS_DIR DOC</c> (splices reports into docs/performance.md). <c>benchmarks/run-profile.sh</c> runs all.
/// </summary>
public static class Program
{
    private const string MallocThreshold = "MALLOC_MMAP_THRESHOLD_";

    public static int Main(string[] args)
    {
        if (args.FirstOrDefault() is not ("mkl-order" or "update-docs" or "serving" or "ort-time"))
        {
            // MKL picks its kernels at its first matrix product: LibTorch is loaded through Bert.Sharp before any command
            // multiplies, so that on AMD processors every figure is MKL's fast kernels (docs/performance.md, "Start-up order").
            TorchRuntime.EnsureLoaded();
        }

        switch (args.FirstOrDefault())
        {
            case "attention-memory":
                return AttentionMemory(args.Skip(1).FirstOrDefault(), AttentionMemoryProfile.Run);
            case "training-memory":
                return Training.TrainingMemoryProfile.Run(args[1..]);
            case "step-profile":
                return Training.StepProfile.Run(args[1..]);
            case "gemm-shapes":
                return Training.GemmShapeProbe.Run(args[1..]);
            case "step-ab":
                return Training.InterleavedStepComparison.Run(args[1..]);
            case "attention-dropout-ab":
                return Training.AttentionDropoutComparison.Run(args[1..]);
            case "policy-memory":
                return AttentionMemory(args.Skip(1).FirstOrDefault(), () => Training.PolicyStepBenchmarks.Profile());
            case "gpu-check":
                return Gpu.GpuCheck.Run(args[1..]);
            case "dispatch-floor":
                return Encoder.DispatchFloorComparison.Run(args[1..]);
            case "forward-ab":
                return Encoder.ForwardComparison.Run(args[1..]);
            case "mkl-order":
                return Encoder.MklStartupOrderProbe.Run(args[1..]);
            case "small-rows":
                return Encoder.SmallRowsComparison.Run(args[1..]);
            case "packed-gemm":
                return Encoder.PackedGemmProbe.Run();
            case "weight-layout":
                return Encoder.WeightLayoutComparison.Run(args[1..]);
            case "int8-speed":
                return Deployment.Int8SpeedComparison.Run(args[1..]);
            case "ort-time":
                return Deployment.OrtSessionTiming.Run(args[1..]);
            case "ort-profile":
                return Deployment.OrtOperatorProfile.Run(args[1..]);
            case "int8-quality":
                return Deployment.Int8QualityProfile.Run(args[1..]);
            case "serving":
                return ServingLoadBenchmark.Run(args[1..]);
            case "update-docs" when args.Length == 3:
                IReadOnlyList<string> names = PerformanceDocUpdater.Update(args[2], args[1]);
                Console.WriteLine($"Updated {args[2]}: {string.Join(", ", names)}");
                return 0;
            default:
                // In-process: LibTorch's native files (and Bert.Sharp's libstdc++ fix) live in this build's output;
                // a regenerated child project would have to repeat both.
                string[] withInProcess = args.Contains("--inProcess") ? args : [.. args, "--inProcess"];
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(withInProcess);
                return 0;
        }
    }

    // Runs a peak-memory profile in a process whose allocator returns large blocks to the OS (see below).
    private static int AttentionMemory(string? outputPath, Func<string> profile)
    {
        // glibc keeps freed blocks resident, hiding later peaks; a fixed mmap threshold returns large tensors to the OS
        // on free, so each measurement starts from the same resident size. It must be set before the process starts.
        if (Environment.GetEnvironmentVariable(MallocThreshold) is null)
        {
            var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
            foreach (string arg in Environment.GetCommandLineArgs().Skip(Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal) ? 0 : 1))
            {
                start.ArgumentList.Add(arg);
            }

            start.Environment[MallocThreshold] = "131072";
            using Process child = Process.Start(start)!;
            child.WaitForExit();
            return child.ExitCode;
        }

        string table = profile();
        Console.WriteLine(table);
        if (outputPath is not null)
        {
            File.WriteAllText(outputPath, table);
        }

        return 0;
    }
}
