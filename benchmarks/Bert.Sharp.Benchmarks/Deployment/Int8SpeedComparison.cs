using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace Bert.Sharp.Benchmarks.Deployment;

/// <summary>
/// <c>int8-speed MODEL_DIR [1x16 1x128 32x128 ...] [OTHER.onnx ...]</c>: the int8 export settings of a trained classifier against its float32
/// export in ONNX Runtime, all sessions in one process and timed round by round in turn (medians), so each ratio comes from
/// one run on one machine. Sessions do not spin between runs (<c>session.intra_op.allow_spinning</c> = 0): a spinning
/// session's idle threads would take the cores from the next one. A quieter figure than a BenchmarkDotNet ShortRun on a
/// shared 2-core machine, for comparing formats; the exports are cached in the temp folder per model and Bert.Sharp build (<see cref="Support.ExportCache"/>).
/// </summary>
internal static class Int8SpeedComparison
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || !Directory.Exists(args[0]))
        {
            Console.Error.WriteLine("usage: int8-speed MODEL_DIR [1x16 1x128 32x128 ...] [OTHER.onnx ...]");
            return 2;
        }

        string model = Path.GetFullPath(args[0]);
        string cache = Support.ExportCache.Folder("int8-speed", model);
        Directory.CreateDirectory(cache);
        var int8 = new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8 };
        (string Name, OnnxExportOptions Options)[] settings =
        [
            ("float32", new OnnxExportOptions()),
            ("int8 default (per-token, UnsignedWeights, first token rounded twice)", int8),
            ("int8 per-token, first token rounded", int8 with { PreciseFirstToken = false }),
            ("int8 per-token, SignedWeights", int8 with { Int8Format = OnnxInt8Format.SignedWeights }),
            ("int8 one scale per batch, first token rounded twice", int8 with { PerTokenActivations = false }),
            ("int8 one scale per batch, rounded, UnsignedWeights", int8 with { PerTokenActivations = false, PreciseFirstToken = false }),
            ("int8 one scale per batch, rounded, SignedWeights", int8 with { PerTokenActivations = false, PreciseFirstToken = false, Int8Format = OnnxInt8Format.SignedWeights }),
            ("int8 one scale per batch, rounded, ReducedRange", int8 with { PerTokenActivations = false, PreciseFirstToken = false, Int8Format = OnnxInt8Format.ReducedRange }),
            ("int8 Blockwise (MatMulNBits, head float32)", int8 with { Int8Format = OnnxInt8Format.Blockwise }),
        ];
        var sessions = new List<InferenceSession>();
        try
        {
            for (int i = 0; i < settings.Length; i++)
            {
                string path = Path.Combine(cache, $"setting{i}.onnx");
                if (!File.Exists(path))
                {
                    OnnxExporter.Export(model, path, settings[i].Options with { CopyServingFiles = false });
                }

                sessions.Add(Support.OrtSessions.Create(path, allowSpinning: false));
            }

            Console.WriteLine($"Exports (setting0.onnx = float32, then the rows below in order): {cache}");
            // Any .onnx file named after the model is timed with the others (an export of another build, say), in its own row;
            // on a CPU with VNNI also the default export as OnnxTextClassifier loads it there (weights re-encoded as int8).
            var extraFiles = args.Skip(1).Where(a => a.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)).ToList();
            if (Bert.Sharp.Serving.Int8KernelSupport.HasVnniKernels && Bert.Sharp.Serving.SignedWeightEncoding.Reencode(File.ReadAllBytes(Path.Combine(cache, "setting1.onnx"))) is { } served)
            {
                string path = Path.Combine(cache, "setting1-as-served-with-vnni.onnx");
                File.WriteAllBytes(path, served.Model);
                extraFiles.Add(path);
            }

            foreach (string file in extraFiles)
            {
                sessions.Add(Support.OrtSessions.Create(file, allowSpinning: false));
            }

            string[] named = [.. args.Skip(1).Where(a => !a.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))];
            string[] shapes = named.Length > 0 ? named : ["1x16", "1x128", "32x128"];
            Console.WriteLine($"| setting | {string.Join(" | ", shapes)} |");
            Console.WriteLine($"|---|{string.Concat(shapes.Select(_ => "---|"))}");
            string[] rowNames = [.. settings.Select(setting => setting.Name), .. extraFiles];
            var medians = new double[rowNames.Length, shapes.Length];
            for (int s = 0; s < shapes.Length; s++)
            {
                (int batch, int length) = Support.RandomIdBatch.ParseShape(shapes[s]);
                IReadOnlyCollection<NamedOnnxValue> inputs = Support.OrtSessions.Inputs(Support.RandomIdBatch.Create(batch, length));
                var times = sessions.Select(_ => new List<double>()).ToArray();
                int rounds = batch * length >= 1024 ? 15 : 60;
                for (int round = -2; round < rounds; round++)
                {
                    for (int i = 0; i < sessions.Count; i++)
                    {
                        long start = Stopwatch.GetTimestamp();
                        using (sessions[i].Run(inputs))
                        {
                        }

                        if (round >= 0)
                        {
                            times[i].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                        }
                    }
                }

                for (int i = 0; i < sessions.Count; i++)
                {
                    medians[i, s] = times[i].Order().ElementAt(times[i].Count / 2);
                }
            }

            for (int i = 0; i < rowNames.Length; i++)
            {
                IEnumerable<string> cells = Enumerable.Range(0, shapes.Length).Select(s => i == 0 ? $"{medians[0, s]:F2} ms" : $"{medians[i, s] / medians[0, s]:F2}");
                Console.WriteLine($"| {rowNames[i]} | {string.Join(" | ", cells)} |");
            }

            Console.WriteLine("Float32 row: median milliseconds per batch; other rows: their median over float32's (below 1 is faster).");
            return 0;
        }
        finally
        {
            sessions.ForEach(s => s.Dispose());
        }
    }
}
