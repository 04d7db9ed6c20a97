using System.Diagnostics;
using System.Globalization;
using System.Text;
using Bert.Sharp.Benchmarks.Support;
using Bert.Sharp.Runtime;

namespace Bert.Sharp.Benchmarks.Training;

/// <summary>
/// Peak resident memory (VmHWM) and time of a full fine-tuning step per precision and checkpointing setting, each case in
/// its own process so that no case inherits another's allocator state: <c>training-memory [BATCHxSEQ ...] [Float32|BFloat16 ...]</c>
/// (default 8x512, both precisions).
/// The step after a warm-up step is measured (AdamW state already allocated), after resetting the high-water mark.
/// </summary>
internal static class TrainingMemoryProfile
{
    private static readonly (TrainingPrecision Precision, bool Checkpointing)[] Cases =
    [
        (TrainingPrecision.Float32, false),
        (TrainingPrecision.Float32, true),
        (TrainingPrecision.BFloat16, false),
        (TrainingPrecision.BFloat16, true),
    ];

    public static int Run(string[] args)
    {
        if (args.Length >= 1 && args[0] == "--case")
        {
            return RunCase(args[1], Enum.Parse<TrainingPrecision>(args[2]), bool.Parse(args[3]));
        }

        string[] shapes = args.Where(a => a.Contains('x', StringComparison.Ordinal)).DefaultIfEmpty("8x512").ToArray();
        TrainingPrecision[] precisions = [.. args.Select(a => Enum.TryParse(a, out TrainingPrecision p) ? p : (TrainingPrecision?)null).OfType<TrainingPrecision>()];
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"CPU: {BFloat16Hardware.DescribeCpu()}; load before: {File.ReadAllText("/proc/loadavg").Trim()}");
        table.AppendLine("| shape | precision | checkpointing | peak RSS during a step (MiB) | RSS after setup (MiB) | step (s) |");
        table.AppendLine("|---|---|---|---:|---:|---:|");
        foreach (string shape in shapes)
        {
            foreach ((TrainingPrecision precision, bool checkpointing) in Cases.Where(c => precisions.Length == 0 || precisions.Contains(c.Precision)))
            {
                var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false, RedirectStandardOutput = true };
                foreach (string arg in Environment.GetCommandLineArgs().Skip(Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal) ? 0 : 1).Take(Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal) ? 1 : 0))
                {
                    start.ArgumentList.Add(arg);
                }

                foreach (string arg in (string[])["training-memory", "--case", shape, precision.ToString(), checkpointing.ToString()])
                {
                    start.ArgumentList.Add(arg);
                }

                using Process child = Process.Start(start)!;
                string line = child.StandardOutput.ReadToEnd().Trim().Split('\n')[^1];
                child.WaitForExit();
                table.AppendLine(CultureInfo.InvariantCulture, $"| {shape} | {precision} | {(checkpointing ? "yes" : "no")} | {line}");
                Console.Error.WriteLine($"{shape} {precision} checkpointing={checkpointing}: {line}");
            }
        }

        table.AppendLine(CultureInfo.InvariantCulture, $"load after: {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine(table.ToString());
        return 0;
    }

    private static int RunCase(string shape, TrainingPrecision precision, bool checkpointing)
    {
        (int batch, int sequence) = TrainingPrecisionBenchmarks.ParseShape(shape);
        using var runner = new TrainingStepRunner(batch, sequence, precision, checkpointing);
        if (runner.Precision.Effective != precision)
        {
            Console.WriteLine($"n/a | n/a | n/a (ran {runner.Precision.Effective}: {runner.Precision.Warning}) |");
            return 1;
        }

        long setup = PeakMemory.ResidentBytes();
        runner.Step();
        PeakMemory.Reset();
        var watch = Stopwatch.StartNew();
        runner.Step();
        double seconds = watch.Elapsed.TotalSeconds;
        long peak = PeakMemory.HighWaterMarkBytes();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{peak / 1048576.0:F0} | {setup / 1048576.0:F0} | {seconds:F2} |"));
        return 0;
    }
}
