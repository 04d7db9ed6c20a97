using System.Globalization;
using Bert.Sharp.Benchmarks.Support;
using Microsoft.ML.OnnxRuntime;

namespace Bert.Sharp.Benchmarks.Deployment;

/// <summary>
/// <c>ort-time BASELINE.onnx OTHER.onnx ... [1x16 32x128 ...] [--rounds N] [--no-spinning]</c>: exported models in ONNX
/// Runtime with its default threading — worker threads spin between runs unless <c>--no-spinning</c> — as an application
/// serving one model runs them. Where <c>int8-speed</c> runs its sessions one call each in turn with spinning off (so that
/// no session's spinning threads take the cores from the next, at the price of waking sleeping threads at every
/// operator), here each session runs a round of calls after a pause long enough for the previous session's threads to
/// stop spinning, taking turns round by round. Prints each file's median per batch and its ratio to the first file's.
/// </summary>
internal static class OrtSessionTiming
{
    public static int Run(string[] args)
    {
        int rounds = 9;
        bool spinning = true;
        var files = new List<string>();
        var shapes = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--rounds":
                    rounds = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--no-spinning":
                    spinning = false;
                    break;
                case string file when file.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase):
                    files.Add(file);
                    break;
                default:
                    shapes.Add(args[i]);
                    break;
            }
        }

        if (files.Count == 0 || files.Any(f => !File.Exists(f)))
        {
            Console.Error.WriteLine("usage: ort-time BASELINE.onnx [OTHER.onnx ...] [1x16 32x128 ...] [--rounds N] [--no-spinning]");
            return 2;
        }

        if (shapes.Count == 0)
        {
            shapes.AddRange(["1x16", "32x24", "32x128"]);
        }

        var sessions = files.Select(f => OrtSessions.Create(f, spinning)).ToList();
        try
        {
            Console.WriteLine($"ort-time, {Environment.ProcessorCount} threads, {(spinning ? "spinning between runs (ONNX Runtime's default)" : "no spinning")}, {rounds} rounds; first file: median per batch, others: ratio to it");
            Console.WriteLine($"| file | {string.Join(" | ", shapes)} |");
            Console.WriteLine($"|---|{string.Concat(shapes.Select(_ => "---:|"))}");
            var medians = new double[files.Count][];
            for (int f = 0; f < files.Count; f++)
            {
                medians[f] = new double[shapes.Count];
            }

            for (int s = 0; s < shapes.Count; s++)
            {
                (int batch, int length) = RandomIdBatch.ParseShape(shapes[s]);
                IReadOnlyCollection<NamedOnnxValue> inputs = OrtSessions.Inputs(RandomIdBatch.Create(batch, length));
                int calls = batch * length <= 1024 ? 10 : 2;
                Action[] alternatives = [.. sessions.Select(session => (Action)(() => session.Run(inputs).Dispose()))];
                double[] times = TakingTurns.Medians(rounds, alternatives, calls, pause: TimeSpan.FromMilliseconds(100));
                for (int f = 0; f < files.Count; f++)
                {
                    medians[f][s] = times[f];
                }
            }

            for (int f = 0; f < files.Count; f++)
            {
                IEnumerable<string> cells = medians[f].Select((m, s) => f == 0 ? string.Create(CultureInfo.InvariantCulture, $"{m:F2} ms") : string.Create(CultureInfo.InvariantCulture, $"{m / medians[0][s]:F2}"));
                Console.WriteLine($"| {Path.GetFileName(files[f])} | {string.Join(" | ", cells)} |");
            }

            return 0;
        }
        finally
        {
            sessions.ForEach(s => s.Dispose());
        }
    }
}
