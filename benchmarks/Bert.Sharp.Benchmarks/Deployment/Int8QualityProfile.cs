using System.Globalization;
using System.Text;

namespace Bert.Sharp.Benchmarks.Deployment;

/// <summary>
/// <c>int8-quality MODEL_DIR [--data FILE] [--seed 42] [--test-fraction 0.2] [--only TEXT] [--all-texts]</c>: how far each int8 export setting moves a
/// trained text classifier's probabilities from its float32 export, on the held-out texts of the sentiment sample's split
/// (the same file, fraction and seed give the same texts the sample evaluates on). One row per setting: weight scales per
/// tensor or per column, which linear layers stay float32 (the head, then each encoder layer and each kind of layer in
/// turn), the word-embedding table int8 or not; the largest and mean probability change, labels kept, file size.
/// Quality only — no timings, so it can run on a busy machine.
/// </summary>
internal static class Int8QualityProfile
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith('-'))
        {
            Console.Error.WriteLine("usage: int8-quality MODEL_DIR [--data FILE] [--seed 42] [--test-fraction 0.2] [--only TEXT] [--all-texts]");
            return 2;
        }

        string model = Path.GetFullPath(args[0]);
        string data = Option(args, "--data") ?? Path.Combine(AppContext.BaseDirectory, "data", "amazon_cells_labelled.txt");
        int seed = int.Parse(Option(args, "--seed") ?? "42", CultureInfo.InvariantCulture);
        double fraction = double.Parse(Option(args, "--test-fraction") ?? "0.2", CultureInfo.InvariantCulture);
        var (_, test) = LabeledDataset.Split(LabeledDataset.Load(data, DataFileOptions.Headerless(0, 1)), fraction, seed);
        // --all-texts: every text of the file (training texts too): a larger sample for comparing settings, whose largest change moves less from one setting to the next.
        string[] texts = Array.IndexOf(args, "--all-texts") >= 0
            ? [.. LabeledDataset.Load(data, DataFileOptions.Headerless(0, 1)).Select(e => e.Text)]
            : [.. test.Select(e => e.Text)];

        var config = BertConfig.Load(Path.Combine(model, "config.json"));
        int layers = config.NumHiddenLayers;
        string work = Path.Combine(Path.GetTempPath(), "bert-sharp-int8-quality-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            string float32 = Path.Combine(work, "model.onnx");
            OnnxExporter.Export(model, float32, new OnnxExportOptions { CopyServingFiles = false });
            long float32Size = new FileInfo(float32).Length;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            IReadOnlyList<float[]> reference = Score(model, float32, texts, batchSize: 32);
            double float32Seconds = clock.Elapsed.TotalSeconds;
            IReadOnlyList<float[]> referenceOneByOne = Score(model, float32, texts, batchSize: 1);

            string[] head = ["classifier", "pooler"];
            var settings = new List<(string Name, OnnxExportOptions Options)>
            {
                ("per tensor, all int8, one activation scale per batch", Int8(perChannel: false, []) with { PerTokenActivations = false }),
                ("per column, head fp32, one activation scale per batch", Int8(perChannel: true, head) with { PerTokenActivations = false }),
                ("per column, all int8", Int8(perChannel: true, [])),
                ("per column, per-token activations, head fp32", Int8(perChannel: true, head)),
                ("per column, per-token activations, head + layer 0 output.dense fp32 (default)", Int8(perChannel: true, OnnxExportOptions.DefaultFloat32Modules)),
                ("per column, one activation scale per batch, first token rounded twice, head + layer 0 output.dense fp32", Int8(perChannel: true, OnnxExportOptions.DefaultFloat32Modules) with { PerTokenActivations = false }),
                ("default, first token rounded like the others", Int8(perChannel: true, OnnxExportOptions.DefaultFloat32Modules) with { PreciseFirstToken = false }),
                ("default, word embeddings fp32", Int8(perChannel: true, OnnxExportOptions.DefaultFloat32Modules) with { QuantizeWordEmbeddings = false }),
                // The formats of OnnxInt8Format: int8 weights (8 bits on both sides) saturate in ONNX Runtime's u8·s8 kernel on CPUs without VNNI.
                ("format: Blockwise (MatMulNBits; its default keeps the head fp32)", Int8(perChannel: true, OnnxExportOptions.DefaultFloat32Modules) with { Int8Format = OnnxInt8Format.Blockwise }),
                ("format: Blockwise, head + layer 0 output.dense fp32", Int8(perChannel: true, [.. head, "encoder.layer.0.output.dense"]) with { Int8Format = OnnxInt8Format.Blockwise }),
                ("format: Blockwise, all int8", Int8(perChannel: true, []) with { Int8Format = OnnxInt8Format.Blockwise }),
                ("format: default with SignedWeights (u8·s8, 8 bits on both sides)", Int8(perChannel: true, OnnxExportOptions.DefaultFloat32Modules) with { Int8Format = OnnxInt8Format.SignedWeights }),
                ("format: default with ReducedRange (u8·s8, 7-bit activations)", Int8(perChannel: true, OnnxExportOptions.DefaultFloat32Modules) with { Int8Format = OnnxInt8Format.ReducedRange }),
                ("format: one activation scale per batch, first token rounded twice, SignedWeights", Int8(perChannel: true, OnnxExportOptions.DefaultFloat32Modules) with { PerTokenActivations = false, Int8Format = OnnxInt8Format.SignedWeights }),
                ("format: one activation scale per batch, first token rounded twice, ReducedRange (7-bit weights)", Int8(perChannel: true, OnnxExportOptions.DefaultFloat32Modules) with { PerTokenActivations = false, Int8Format = OnnxInt8Format.ReducedRange }),
            };
            for (int i = 0; i < layers; i++)
            {
                settings.Add(($"default + layer {i} fp32", Int8(perChannel: true, [.. OnnxExportOptions.DefaultFloat32Modules, $"encoder.layer.{i}"])));
                settings.Add(($"per-token, head + layer {i} output.dense fp32", Int8(perChannel: true, [.. head, $"encoder.layer.{i}.output.dense"])));
            }

            foreach ((string kind, string path) in new[] { ("Q/K/V", "attention.self"), ("attention output", "attention.output.dense"), ("intermediate", "intermediate.dense"), ("output", "output.dense") })
            {
                string[] modules = [.. OnnxExportOptions.DefaultFloat32Modules, .. Enumerable.Range(0, layers).Select(i => $"encoder.layer.{i}.{path}")];
                settings.Add(($"default + every {kind} fp32", Int8(perChannel: true, modules)));
            }

            // --only TEXT: just the settings whose name contains TEXT (the full table exports the model ~25 times).
            if (Option(args, "--only") is string only)
            {
                settings.RemoveAll(s => !s.Name.Contains(only, StringComparison.OrdinalIgnoreCase));
            }

            var table = new StringBuilder();
            table.AppendLine(CultureInfo.InvariantCulture, $"int8 export quality of '{model}' on {texts.Length} held-out texts of '{Path.GetFileName(data)}' (seed {seed}), against its float32 export ({float32Size / 1e6:F1} MB, scored in {float32Seconds:F1} s)");
            table.AppendLine("Scoring time: one pass over the texts in batches of 32, session load included; a rough ratio only, not a benchmark.");
            table.AppendLine();
            table.AppendLine("| setting | max probability change | mean change | labels kept | size (of fp32) | scoring time (of fp32) |");
            table.AppendLine("|---|---|---|---|---|---|");
            foreach ((string name, OnnxExportOptions options) in settings)
            {
                string path = Path.Combine(work, "model.int8.onnx");
                OnnxExporter.Export(model, path, options with { CopyServingFiles = false });
                long size = new FileInfo(path).Length;
                foreach (int batchSize in name.EndsWith("(default)", StringComparison.Ordinal) || name.Contains("per batch", StringComparison.Ordinal) ? new[] { 32, 1 } : [32])
                {
                    clock.Restart();
                    IReadOnlyList<float[]> scores = Score(model, path, texts, batchSize);
                    double seconds = clock.Elapsed.TotalSeconds;
                    (double max, double mean, int kept) = Compare(batchSize == 1 ? referenceOneByOne : reference, scores);
                    string label = batchSize == 1 ? name + ", one text per batch" : name;
                    string row = string.Create(CultureInfo.InvariantCulture, $"| {label} | {max:F4} | {mean:F5} | {kept}/{texts.Length} | {size / 1e6:F1} MB ({100.0 * size / float32Size:F0} %) | {(batchSize == 1 ? "-" : $"{seconds:F1} s ({100.0 * seconds / float32Seconds:F0} %)")} |");
                    table.AppendLine(row);
                    Console.WriteLine(row);
                }
            }

            Console.WriteLine();
            Console.WriteLine(table.ToString());
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    // The probabilities in label order; batches of texts are what a server runs (the activations of a batch share one int8 scale).
    private static IReadOnlyList<float[]> Score(string model, string onnx, string[] texts, int batchSize)
    {
        using var classifier = OnnxTextClassifier.FromPretrained(model, new OnnxClassifierOptions { ModelFileName = onnx, BatchSize = batchSize });
        // Every label's probability (not only the predicted one's, whose arg-max would always agree).
        return [.. classifier.PredictBatch(texts).Select(p => classifier.Labels.Select(label => p.Probabilities[label]).ToArray())];
    }

    private static OnnxExportOptions Int8(bool perChannel, IReadOnlyList<string> float32Modules) => new()
    {
        Quantization = OnnxQuantization.DynamicInt8,
        PerChannelWeights = perChannel,
        Float32Modules = float32Modules,
    };

    private static (double Max, double Mean, int Kept) Compare(IReadOnlyList<float[]> reference, IReadOnlyList<float[]> scores)
    {
        double max = 0, sum = 0;
        int kept = 0, count = 0;
        for (int t = 0; t < reference.Count; t++)
        {
            for (int c = 0; c < reference[t].Length; c++)
            {
                double change = Math.Abs(reference[t][c] - scores[t][c]);
                max = Math.Max(max, change);
                sum += change;
                count++;
            }

            kept += ArgMax(reference[t]) == ArgMax(scores[t]) ? 1 : 0;
        }

        return (max, sum / Math.Max(1, count), kept);
    }

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            best = values[i] > values[best] ? i : best;
        }

        return best;
    }

    private static string? Option(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }
}
