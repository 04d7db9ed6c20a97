namespace Bert.Sharp;

/// <summary>
/// Scorers for Bert.Sharp's <c>OnnxExportOptions.QualityCheck</c>: they run an exported file on ONNX Runtime, in process, so
/// that the exporter (which does not depend on ONNX Runtime) can compare its int8 graph with the float32 one.
/// </summary>
/// <example>
/// <code>
/// OnnxQualityReport? report = OnnxExporter.Export(folder, Path.Combine(folder, "model.int8.onnx"), new OnnxExportOptions
/// {
///     Quantization = OnnxQuantization.DynamicInt8,
///     QualityCheck = new OnnxQualityCheck { Texts = calibrationTexts, Scorer = OnnxExportScoring.TextClassification, MaxProbabilityChange = 0.05 },
/// });
/// </code>
/// </example>
public static class OnnxExportScoring
{
    /// <summary>
    /// The class probabilities of a text-classification export for each text, in label order (the tokenizer and
    /// <c>config.json</c> come from <paramref name="modelDirectory"/>). One intra-op thread per core, batches of 32.
    /// </summary>
    /// <param name="modelDirectory">The exported model's folder (tokenizer files, <c>config.json</c>).</param>
    /// <param name="onnxPath">The .onnx file to run.</param>
    /// <param name="texts">The texts to score.</param>
    /// <returns>One probability vector per text.</returns>
    public static IReadOnlyList<float[]> TextClassification(string modelDirectory, string onnxPath, IReadOnlyList<string> texts)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        ArgumentException.ThrowIfNullOrEmpty(onnxPath);
        ArgumentNullException.ThrowIfNull(texts);
        using var classifier = OnnxTextClassifier.FromPretrained(modelDirectory, new OnnxClassifierOptions { ModelFileName = Path.GetFullPath(onnxPath) });
        // Every label's probability, in the model's label order (not only the predicted label's: the report's label
        // agreement compares the arg-max of these vectors). A regression head has values instead of probabilities.
        return [.. classifier.PredictBatch(texts).Select(p => classifier.Labels.Select(label => p.Probabilities.Count > 0 ? p.Probabilities[label] : p.Values[label]).ToArray())];
    }
}
