using System.Diagnostics;
using Bert.Sharp;
using Spectre.Console;

namespace SentimentAnalysis;

/// <summary>
/// <c>--export-onnx [--int8]</c>: writes the saved model as <c>model.onnx</c> (and <c>model.int8.onnx</c>) next to it, then
/// serves the held-out set through <see cref="OnnxTextClassifier"/> (ONNX Runtime, no TorchSharp) and prints file sizes and
/// accuracies next to the TorchSharp accuracy.
/// </summary>
internal static class OnnxExportStep
{
    public static void Run(string savedModel, IReadOnlyList<LabeledExample> test, double torchAccuracy, bool int8, CancellationToken cancellationToken)
    {
        var table = new Table().AddColumns("Model", "File", "Size", "Held-out accuracy", "Export / predict time");
        long weights = new FileInfo(Path.Combine(savedModel, "model.safetensors")).Length;
        table.AddRow("TorchSharp (Bert.Sharp)", "model.safetensors", Megabytes(weights), $"{torchAccuracy:P1}", "");
        var variants = new List<(string Name, string File, OnnxExportOptions Options)> { ("ONNX Runtime fp32", "model.onnx", new OnnxExportOptions()) };
        if (int8)
        {
            variants.Add(("ONNX Runtime int8", "model.int8.onnx", new OnnxExportOptions { Quantization = OnnxQuantization.DynamicInt8 }));
        }

        string[] texts = [.. test.Select(e => e.Text)];
        foreach ((string name, string file, OnnxExportOptions options) in variants)
        {
            var watch = Stopwatch.StartNew();
            OnnxExporter.Export(savedModel, Path.Combine(savedModel, file), options, logger: null, cancellationToken);
            TimeSpan exported = watch.Elapsed;
            using var classifier = OnnxTextClassifier.FromPretrained(savedModel, new OnnxClassifierOptions { ModelFileName = file });
            watch.Restart();
            IReadOnlyList<Prediction> predictions = classifier.PredictBatch(texts);
            TimeSpan predicted = watch.Elapsed;
            double accuracy = predictions.Zip(test, (p, e) => p.Label == e.Label ? 1.0 : 0.0).Average();
            long size = new FileInfo(Path.Combine(savedModel, file)).Length;
            table.AddRow(name, file, $"{Megabytes(size)} ({100.0 * size / weights:F0} %)", $"{accuracy:P1}", $"{exported.TotalSeconds:F1} s / {predicted.TotalSeconds:F2} s for {texts.Length} texts");
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"Serve it without TorchSharp: [bold]OnnxTextClassifier.FromPretrained(\"{savedModel}\")[/] (package Bert.Sharp.Onnx); see docs/deployment.md.");
    }

    private static string Megabytes(long bytes) => $"{bytes / 1e6:F1} MB";
}
