using System.Diagnostics;
using System.Globalization;
using System.Text;
using Bert.Sharp.Benchmarks.Training;
using Bert.Sharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Benchmarks.Gpu;

/// <summary>
/// <c>gpu-check [--model DIR] [--device cuda|cpu] [--out DIR] [--python PATH] [--tiny]</c>: every public path of the library on
/// one device (FineTuner.Train for the three tasks and every freeze policy, precisions, evaluation, early stopping,
/// checkpoint and exact resume, the three predictors against the CPU, ONNX export of a device model, Adapters.Merge), then
/// timings at 32×128 (with <c>--python</c>: the same work in PyTorch + transformers, tools/gpu_reference.py). Each case is
/// caught and recorded; <c>OUT/gpu-report.md</c> is rewritten after every case. <c>--tiny</c>: a 2-layer model for a quick run.
/// </summary>
internal static class GpuCheck
{
    public static int Run(string[] args)
    {
        string? modelArg = Option(args, "--model");
        Device device = TorchRuntime.ParseDevice(Option(args, "--device") ?? "auto");
        string output = Path.GetFullPath(Option(args, "--out") ?? "gpu-check");
        string? python = Option(args, "--python");
        bool tiny = args.Contains("--tiny");
        Directory.CreateDirectory(output);
        string reportPath = Path.Combine(output, "gpu-report.md");
        var timings = new List<string>();
        string gpu = device.type == DeviceType.CUDA ? $"CUDA ({cuda.device_count()} device(s))" : "CPU";
        var matrix = new GpuCheckMatrix(cases => File.WriteAllText(reportPath, Report(cases, timings, device, gpu, modelArg, tiny)));

        string modelDir = modelArg ?? Path.Combine(output, "reference-model");
        BertConfig shape = tiny ? TinyShape : BaseShape;
        matrix.Run("reference model", () => modelArg is null ? CreateReferenceModel(modelDir, shape) : $"given: {modelArg}");
        var tokenizer = BertTokenizer.FromPretrained(modelDir);

        int steps = tiny ? 4 : 40;
        List<LabeledExample> sentiment = GpuCheckData.Sentiment(tiny ? 64 : 640, 1);
        List<LabeledExample> heldOut = GpuCheckData.Sentiment(tiny ? 16 : 160, 2);
        List<TaggedSentence> tagged = GpuCheckData.Tagged(tiny ? 64 : 640, 3);
        List<TextPair> pairs = GpuCheckData.Pairs(tiny ? 64 : 640, 4);
        FineTuningOptions Options(FreezePolicy policy) => new() { Epochs = 2, BatchSize = tiny ? 8 : 32, MaxSteps = steps, FreezePolicy = policy, LearningRate = 5e-5, Seed = 42, MaxSequenceLength = 128, SaveBestModel = false };

        var policies = new (string Name, FreezePolicy Policy)[]
        {
            ("transfer (feature cache)", FreezePolicy.TransferLearning()),
            ("top-2", FreezePolicy.FineTuneTopLayers(2)),
            ("full", FreezePolicy.FullFineTuning()),
            ("gradual", FreezePolicy.GradualUnfreezing()),
            ("lora", FreezePolicy.LoRA()),
        };
        foreach ((string name, FreezePolicy policy) in policies)
        {
            matrix.Run($"sequence classification, {name}, fp32", () => TrainSequence(modelDir, tokenizer, device, Options(policy), sentiment, heldOut, name == "full"));
            matrix.Run($"token classification, {name}, fp32", () => Describe(Train(BertForTokenClassification.FromPretrained(modelDir, ["O", "B-LOC", "B-PER"]), tokenizer, device, Options(policy), tagged, tagged[..16])));
            // A sentence embedder has no head: head-only policies (transfer learning, gradual unfreezing from 0 layers)
            // leave nothing to train and are refused by FineTuner, as they should be.
            if (name is "transfer (feature cache)" or "gradual")
            {
                continue;
            }

            matrix.Run($"sentence embedding, {name}, fp32", () => Describe(Train(BertForSentenceEmbedding.FromPretrained(modelDir), tokenizer, device, Options(policy), pairs, pairs[..16])));
        }

        var precisions = device.type == DeviceType.CUDA
            ? new[] { TrainingPrecision.BFloat16, TrainingPrecision.Float16 }
            : [TrainingPrecision.BFloat16];
        foreach (TrainingPrecision precision in precisions)
        {
            matrix.Run($"sequence classification, full, {precision}", () => TrainSequence(modelDir, tokenizer, device, Options(FreezePolicy.FullFineTuning()) with { Precision = precision }, sentiment, heldOut, lossMustFall: true));
        }

        matrix.Run("gradient checkpointing, full, fp32", () => TrainSequence(modelDir, tokenizer, device, Options(FreezePolicy.FullFineTuning()) with { GradientCheckpointing = true }, sentiment, heldOut, lossMustFall: false));
        matrix.Run("early stopping", () =>
        {
            TrainingReport report = Train(Sequence(modelDir), tokenizer, device, Options(FreezePolicy.FullFineTuning()) with { Epochs = 6, MaxSteps = null, EarlyStoppingPatience = 1, EarlyStoppingThreshold = 10 }, sentiment[..(tiny ? 32 : 128)], heldOut);
            GpuCheckMatrix.Require(report.StoppedEarly, $"did not stop early ({report.EpochsCompleted} epochs)");
            return $"stopped after {report.EpochsCompleted} epochs";
        });
        matrix.Run("checkpoint and exact resume", () => CheckResume(modelDir, tokenizer, device, Options(FreezePolicy.FullFineTuning()), sentiment, output));

        string trained = Path.Combine(output, "trained-classifier");
        string trainedTokens = Path.Combine(output, "trained-token-classifier");
        string trainedEmbedder = Path.Combine(output, "trained-embedder");
        matrix.Run("save models trained on the device", () =>
        {
            using (BertForSequenceClassification m = Sequence(modelDir))
            {
                Train(m, tokenizer, device, Options(FreezePolicy.FullFineTuning()), sentiment, null);
                m.SavePretrained(trained, tokenizer);
            }

            using (BertForTokenClassification m = BertForTokenClassification.FromPretrained(modelDir, ["O", "B-LOC", "B-PER"]))
            {
                Train(m, tokenizer, device, Options(FreezePolicy.FullFineTuning()), tagged, null);
                m.SavePretrained(trainedTokens, tokenizer);
            }

            using (BertForSentenceEmbedding m = BertForSentenceEmbedding.FromPretrained(modelDir))
            {
                Train(m, tokenizer, device, Options(FreezePolicy.FullFineTuning()), pairs, null);
                m.SavePretrained(trainedEmbedder, tokenizer);
            }

            return "3 models saved";
        });

        string[] texts = [.. heldOut.Take(16).Select(e => e.Text)];
        matrix.Run("TextClassifier on the device vs the CPU", () =>
        {
            using var onDevice = TextClassifier.FromPretrained(trained, new TextClassifierOptions { Device = device });
            using var onCpu = TextClassifier.FromPretrained(trained, new TextClassifierOptions { Device = CPU });
            double diff = MaxDiff(onDevice.PredictBatch(texts).SelectMany(p => p.Probabilities.Values), onCpu.PredictBatch(texts).SelectMany(p => p.Probabilities.Values));
            GpuCheckMatrix.Require(diff <= 1e-4, $"probabilities differ by {diff:G3} (> 1e-4)");
            return $"max |Δp| {diff:G3} over {texts.Length} texts";
        });
        matrix.Run("TokenClassifier on the device vs the CPU", () =>
        {
            using var onDevice = TokenClassifier.FromPretrained(trainedTokens, new TokenClassifierOptions { Device = device });
            using var onCpu = TokenClassifier.FromPretrained(trainedTokens, new TokenClassifierOptions { Device = CPU });
            string[] sentences = [.. tagged.Take(16).Select(t => string.Join(' ', t.Tokens))];
            var a = onDevice.PredictBatch(sentences);
            var b = onCpu.PredictBatch(sentences);
            GpuCheckMatrix.Require(a.Select(e => e.Count).SequenceEqual(b.Select(e => e.Count)), "different entities on the device and the CPU");
            double diff = MaxDiff(a.SelectMany(e => e.Select(x => x.Score)), b.SelectMany(e => e.Select(x => x.Score)));
            GpuCheckMatrix.Require(diff <= 1e-4, $"entity scores differ by {diff:G3} (> 1e-4)");
            return $"max |Δscore| {diff:G3}, {a.Sum(e => e.Count)} entities";
        });
        matrix.Run("SentenceEmbedder on the device vs the CPU", () =>
        {
            using var onDevice = SentenceEmbedder.FromPretrained(trainedEmbedder, new SentenceEmbeddingOptions { Device = device });
            using var onCpu = SentenceEmbedder.FromPretrained(trainedEmbedder, new SentenceEmbeddingOptions { Device = CPU });
            double diff = MaxDiff(onDevice.Embed(texts).SelectMany(v => v), onCpu.Embed(texts).SelectMany(v => v));
            GpuCheckMatrix.Require(diff <= 1e-4, $"embeddings differ by {diff:G3} (> 1e-4)");
            return $"max |Δ| {diff:G3}";
        });
        matrix.Run("ONNX export of a model on the device", () =>
        {
            using BertForSequenceClassification m = BertForSequenceClassification.FromPretrained(trained);
            m.to(device);
            string folder = Path.Combine(output, "onnx-source");
            m.SavePretrained(folder, tokenizer);
            string onnx = Path.Combine(output, "model.onnx");
            OnnxExporter.Export(folder, onnx);
            return $"{new FileInfo(onnx).Length / 1e6:F1} MB";
        });
        matrix.Run("LoRA on the device, Adapters.Merge", () =>
        {
            using BertForSequenceClassification m = Sequence(modelDir);
            Train(m, tokenizer, device, Options(FreezePolicy.LoRA()), sentiment, null);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            m.eval();
            Tensor ids = tensor(tokenizer.Encode(texts[0]).Select(i => (long)i).ToArray()).unsqueeze(0).to(device);
            float[] before = Runtime.HostRead.Values<float>(m.Forward(ids).Logits);
            m.Adapters.Merge();
            float[] after = Runtime.HostRead.Values<float>(m.Forward(ids).Logits);
            double diff = MaxDiff(before, after);
            GpuCheckMatrix.Require(diff <= 1e-3, $"logits changed by {diff:G3} when merging");
            return $"max |Δlogit| {diff:G3}";
        });

        Timings(matrix, timings, shape, device, tiny);
        if (python is not null)
        {
            matrix.Run("PyTorch + transformers reference", () => PythonReference(python, modelDir, output, timings, tiny));
        }

        File.WriteAllText(reportPath, Report(matrix.Cases, timings, device, gpu, modelArg, tiny));
        Console.WriteLine($"Report: {reportPath}");
        return matrix.Cases.All(c => c.Passed) ? 0 : 1;
    }

    internal static readonly BertConfig BaseShape = new()
    {
        VocabSize = 30522, HiddenSize = 768, NumHiddenLayers = 12, NumAttentionHeads = 12, IntermediateSize = 3072, MaxPositionEmbeddings = 512,
    };

    internal static readonly BertConfig TinyShape = new()
    {
        VocabSize = 128, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 64, MaxPositionEmbeddings = 128,
    };

    /// <summary>A random bert-shaped classifier with a word-level vocabulary, saved as a Hugging Face folder.</summary>
    internal static string CreateReferenceModel(string directory, BertConfig shape)
    {
        Directory.CreateDirectory(directory);
        string vocab = Path.Combine(directory, "vocab.txt");
        var entries = new List<string> { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" };
        entries.AddRange(GpuCheckData.Words);
        for (int i = entries.Count; i < shape.VocabSize; i++)
        {
            entries.Add($"[unused{i}]");
        }

        File.WriteAllLines(vocab, entries);
        var tokenizer = BertTokenizer.FromVocabulary(vocab);
        manual_seed(0);
        using var model = new BertForSequenceClassification(shape, ["negative", "positive"]);
        model.SavePretrained(directory, tokenizer);
        return $"random {shape.NumHiddenLayers} layers × {shape.HiddenSize}, saved in {directory}";
    }

    private static BertForSequenceClassification Sequence(string modelDir) => BertForSequenceClassification.FromPretrained(modelDir, ["negative", "positive"]);

    private static string TrainSequence(string modelDir, BertTokenizer tokenizer, Device device, FineTuningOptions options, List<LabeledExample> train, List<LabeledExample> validation, bool lossMustFall)
    {
        using BertForSequenceClassification model = Sequence(modelDir);
        TrainingReport report = Train(model, tokenizer, device, options, train, validation);
        if (lossMustFall)
        {
            GpuCheckMatrix.Require(report.Steps[^1].Loss < report.Steps[0].Loss, $"the loss did not fall ({report.Steps[0].Loss:F4} → {report.Steps[^1].Loss:F4})");
        }

        return Describe(report);
    }

    private static TrainingReport Train<TExample>(BertTaskModel model, BertTokenizer tokenizer, Device device, FineTuningOptions options, IReadOnlyList<TExample> train, IReadOnlyList<TExample>? validation)
    {
        model.to(device);
        TrainingReport report = new FineTuner(model, tokenizer, options).Train(train, validation);
        GpuCheckMatrix.Require(report.Steps.Count > 0 && report.Steps.All(s => double.IsFinite(s.Loss)), "no finite training loss");
        return report;
    }

    private static string Describe(TrainingReport report) => string.Create(CultureInfo.InvariantCulture,
        $"{report.GlobalStep} steps, loss {report.Steps[0].Loss:F4} → {report.Steps[^1].Loss:F4}, {report.SamplesPerSecond:F0} samples/s, {report.Precision}{(report.UsedFeatureCache ? ", feature cache" : "")}{(report.Evaluations.Count > 0 ? $", eval loss {report.Evaluations[^1].Report.Loss:F4}" : "")}");

    private static string CheckResume(string modelDir, BertTokenizer tokenizer, Device device, FineTuningOptions options, List<LabeledExample> train, string output)
    {
        string straight = Path.Combine(output, "resume-a");
        string resumed = Path.Combine(output, "resume-b");
        FineTuningOptions saving = options with { Epochs = 2, MaxSteps = null, SaveStrategy = IntervalStrategy.Epoch, SaveTotalLimit = null };
        List<LabeledExample> data = train[..Math.Min(train.Count, 96)];
        TrainingReport a;
        using (BertForSequenceClassification m = Sequence(modelDir))
        {
            a = Train(m, tokenizer, device, saving with { OutputDirectory = straight }, data, null);
        }

        string first = Directory.GetDirectories(straight, "checkpoint-*").OrderBy(d => int.Parse(d[(d.LastIndexOf('-') + 1)..], CultureInfo.InvariantCulture)).First();
        TrainingReport b;
        using (BertForSequenceClassification m = Sequence(modelDir))
        {
            b = Train(m, tokenizer, device, saving with { OutputDirectory = resumed, ResumeFromCheckpoint = first }, data, null);
        }

        double diff = Math.Abs(a.Steps[^1].Loss - b.Steps[^1].Loss);
        GpuCheckMatrix.Require(diff <= 1e-5 * Math.Max(1, Math.Abs(a.Steps[^1].Loss)), $"the resumed run's last loss {b.Steps[^1].Loss:G9} differs from the straight run's {a.Steps[^1].Loss:G9}");
        return $"resumed from {Path.GetFileName(first)}; last loss {a.Steps[^1].Loss:F6} both ways (|Δ| {diff:G3})";
    }

    private static void Timings(GpuCheckMatrix matrix, List<string> timings, BertConfig shape, Device device, bool tiny)
    {
        int batch = 32;
        int sequence = 128;
        int rounds = tiny ? 3 : 20;
        foreach (TrainingPrecision precision in new[] { TrainingPrecision.Float32, TrainingPrecision.BFloat16 })
        {
            matrix.Run($"timing: training step {precision} {batch}×{sequence}", () =>
            {
                using var runner = new TrainingStepRunner(batch, sequence, precision, shape: shape);
                double ms = Time(() => runner.Step(), rounds);
                timings.Add(string.Create(CultureInfo.InvariantCulture, $"| training step {precision}, {batch}×{sequence} | {ms:F2} ms |"));
                return $"{ms:F2} ms";
            });
        }

        foreach (TrainingPrecision precision in new[] { TrainingPrecision.Float32, TrainingPrecision.BFloat16 })
        {
            matrix.Run($"timing: forward {precision} {batch}×{sequence}", () =>
            {
                using var model = new BertModel(shape);
                model.to(device);
                model.eval();
                using Tensor ids = randint(5, shape.VocabSize, [batch, sequence], ScalarType.Int64, device);
                var mixed = Runtime.MixedPrecision.Resolve(precision, device, "gpu-check");
                double ms = Time(() =>
                {
                    using var scope = NewDisposeScope();
                    using var noGrad = no_grad();
                    using (mixed.Enter())
                    {
                        model.Forward(ids);
                    }

                    if (device.type == DeviceType.CUDA)
                    {
                        cuda.synchronize();
                    }
                }, rounds);
                timings.Add(string.Create(CultureInfo.InvariantCulture, $"| forward {precision}, {batch}×{sequence} | {ms:F2} ms |"));
                return $"{ms:F2} ms";
            });
        }
    }

    private static double Time(Action step, int rounds)
    {
        step();
        step();
        var samples = new List<double>();
        for (int i = 0; i < rounds; i++)
        {
            var watch = Stopwatch.StartNew();
            step();
            samples.Add(watch.Elapsed.TotalMilliseconds);
        }

        samples.Sort();
        return samples[samples.Count / 2];
    }

    private static string PythonReference(string python, string modelDir, string output, List<string> timings, bool tiny)
    {
        string script = Path.Combine(FindRoot(), "tools", "gpu_reference.py");
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { script, "--model", modelDir, "--out", Path.Combine(output, "pytorch-reference.md") }.Concat(tiny ? ["--tiny"] : []))
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        string stdout = process.StandardOutput.ReadToEnd();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        GpuCheckMatrix.Require(process.ExitCode == 0, $"{python} exited with {process.ExitCode}: {stderr[Math.Max(0, stderr.Length - 600)..]}");
        timings.AddRange(stdout.Split('\n').Where(l => l.StartsWith("| pytorch", StringComparison.Ordinal)).Select(l => l.TrimEnd()));
        return "see the PyTorch rows of the timing table";
    }

    private static string FindRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "tools", "gpu_reference.py")))
            {
                return dir.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }

    private static double MaxDiff(IEnumerable<float> a, IEnumerable<float> b)
    {
        float[] x = [.. a];
        float[] y = [.. b];
        GpuCheckMatrix.Require(x.Length == y.Length, $"{x.Length} values against {y.Length}");
        return x.Length == 0 ? 0 : x.Zip(y, (p, q) => Math.Abs((double)p - q)).Max();
    }

    private static string Report(IReadOnlyList<GpuCheckCase> cases, List<string> timings, Device device, string gpu, string? model, bool tiny)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"# Bert.Sharp GPU check, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Device: {device} ({gpu}); model: {model ?? (tiny ? "random tiny (2 × 32)" : "random bert-base shape (12 × 768)")}; {cases.Count(c => c.Passed)} of {cases.Count} cases passed.");
        text.AppendLine();
        text.AppendLine("| case | result | detail | seconds |");
        text.AppendLine("|---|---|---|---|");
        foreach (GpuCheckCase c in cases)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {c.Name} | {(c.Passed ? "pass" : "**FAIL**")} | {c.Detail.Replace("|", "/", StringComparison.Ordinal)} | {c.Seconds:F1} |");
        }

        if (timings.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("| timing (median) | time |");
            text.AppendLine("|---|---|");
            timings.ForEach(t => text.AppendLine(t));
        }

        return text.ToString();
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
